"""JudgeBench (Tan et al., ICLR 2025): GPT-4o / Claude response pairs, one objectively correct.

Files: ``data/dataset=judgebench,response_model=MODEL.jsonl`` (one subset per response model),
rows ``pair_id``, ``original_id``, ``source``, ``question``, ``response_model``, ``response_A``,
``response_B``, ``label`` (``"A>B"`` or ``"B>A"``).

Scoring (upstream ``utils/metrics.py``): each pair is judged in both orders; each order's
decision votes +1 when it matches the label and -1 when it is the opposite (a tie or no verdict
votes 0). A positive sum is correct, a negative one incorrect, zero a tie. Accuracy = correct /
pairs, overall and per source family: knowledge (``mmlu-pro-*``), reasoning
(``livebench-reasoning``), math (``livebench-math``), coding (``livecodebench``). Inconsistent:
the two orders' decisions differ.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from judge.bench.gold import GoldItem
from judge.bench.published.base import (
    CORRECTNESS,
    PublishedSuite,
    no_data,
    pair_item,
    read_rows,
    require,
)
from judge.bench.published.orders import all_orders, prefers
from judge.errors import InputError

NAME = "judgebench"
BUILDER = "judgebench/1"
FIELDS = ("pair_id", "source", "question", "response_A", "response_B", "label")
#: The response models the published data has one file for.
SUBSETS = ("gpt-4o-2024-05-13", "claude-3-5-sonnet-20240620")
FAMILIES = ("knowledge", "reasoning", "math", "coding")
_DOMAIN = {"math": "math", "coding": "code"}


def family(source: str) -> str:
    """The source family of a JudgeBench ``source`` value.

    >>> family("mmlu-pro-law"), family("livebench-math"), family("livecodebench")
    ('knowledge', 'math', 'coding')
    """
    s = source.lower()
    if s.startswith("mmlu-pro"):
        return "knowledge"
    if "reasoning" in s:
        return "reasoning"
    if "math" in s:
        return "math"
    if "code" in s:
        return "coding"
    return "other"


def _files(root: Path) -> list[Path]:
    """The pair files; judges' result files (``outputs/``, ``judge_name=`` in the name) are
    not data."""
    if root.is_file():
        return [root]
    files = [p for p in sorted(root.rglob("*.jsonl"))
             if "outputs" not in p.relative_to(root).parts and "judge_name=" not in p.name]
    named = [p for p in files if p.name.startswith("dataset=judgebench")]
    return named or files


def load(root: Path) -> PublishedSuite:
    """Build the suite from a JudgeBench checkout, its ``data`` folder, or one data file.

    Raises:
        InputError: no data file, or a bad row (adapter, file, line and field named).
    """
    files = _files(root)
    if not files:
        raise no_data(NAME, root, "data/dataset=judgebench,response_model=MODEL.jsonl")
    items: list[GoldItem] = []
    seen: set[str] = set()
    models: set[str] = set()
    for path in files:
        for line, row in read_rows(path, NAME):
            require(row, FIELDS, NAME, path, line)
            label = row["label"]
            if label not in ("A>B", "B>A"):
                raise InputError(f"{NAME}: must be \"A>B\" or \"B>A\", got {label!r}",
                                 path=str(path), line=line, field="label")
            model = str(row.get("response_model") or path.stem.rpartition("=")[2])
            models.add(model)
            item_id = str(row["pair_id"])
            if item_id in seen:
                item_id = f"{item_id}@{model}"
            seen.add(item_id)
            fam = family(str(row["source"]))
            items.append(pair_item(
                item_id=item_id, prompt=str(row["question"]),
                first=("A", str(row["response_A"])), second=("B", str(row["response_B"])),
                first_wins=label == "A>B", principle=CORRECTNESS, category=fam,
                domain=_DOMAIN.get(fam, "chat"),
                metadata={"source": str(row["source"]), "family": fam, "subset": model,
                          "original_id": row.get("original_id"), "label": label}))
    if not items:
        raise no_data(NAME, root, "rows in the JudgeBench JSONL files")
    missing = tuple(m for m in SUBSETS if m not in models) if not root.is_file() else ()
    return PublishedSuite(NAME, items, BUILDER, str(root), benchmark=NAME, missing=missing)


def _decision(values: Mapping[str, float] | None) -> str | None:
    verdict = prefers(values, "A", "B")
    return {"A": "A>B", "B": "B>A", "tie": "A=B"}.get(verdict or "")


def pair_outcome(record: Mapping[str, Any]) -> tuple[str, bool]:
    """``correct`` / ``incorrect`` / ``tie`` by the net vote of both orders, and whether the
    two orders' decisions differ."""
    label = record["meta"]["label"]
    flip = "B>A" if label == "A>B" else "A>B"
    decisions = [_decision(v) for v in all_orders(record)]
    vote = sum(1 if d == label else -1 if d == flip else 0 for d in decisions)
    outcome = "correct" if vote > 0 else "incorrect" if vote < 0 else "tie"
    return outcome, len(set(decisions)) > 1


def item_score(record: Mapping[str, Any]) -> float:
    """1 for a correct pair, else 0 (for paired comparisons)."""
    return 1.0 if pair_outcome(record)[0] == "correct" else 0.0


def score(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Accuracy (overall, per family, per response model) and the inconsistency rate."""
    groups: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for r in records:
        out = pair_outcome(r)
        groups["overall"].append(out)
        groups[f"family:{r['meta']['family']}"].append(out)
        groups[f"subset:{r['meta']['subset']}"].append(out)

    def summary(outs: list[tuple[str, bool]]) -> dict[str, Any]:
        n = len(outs)
        return {"pairs": n,
                "accuracy": 100.0 * sum(o == "correct" for o, _ in outs) / n,
                "incorrect": 100.0 * sum(o == "incorrect" for o, _ in outs) / n,
                "tie": 100.0 * sum(o == "tie" for o, _ in outs) / n,
                "inconsistent": 100.0 * sum(i for _, i in outs) / n}

    return {name: summary(outs) for name, outs in groups.items()}


def markdown(result: Mapping[str, Any]) -> list[str]:
    """The authors' table: accuracy per family and overall, with inconsistency."""
    lines = ["| Group | Pairs | Accuracy | Incorrect | Tie | Inconsistent |",
             "|---|---:|---:|---:|---:|---:|"]
    order = ["overall", *(f"family:{f}" for f in (*FAMILIES, "other")),
             *sorted(k for k in result if k.startswith("subset:"))]
    for key in order:
        if key in result:
            g = result[key]
            lines.append(f"| {key.partition(':')[2] or key} | {g['pairs']} | "
                         f"{g['accuracy']:.1f} | {g['incorrect']:.1f} | {g['tie']:.1f} | "
                         f"{g['inconsistent']:.1f} |")
    return lines + ["", ("Net vote of both orders (upstream utils/metrics.py): correct when "
                    "the votes for the label outnumber those against it. Percent of pairs.")]
