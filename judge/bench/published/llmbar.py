"""LLMBar (Zeng et al., ICLR 2024): does the judge pick the output that follows the instruction?

Files: one ``dataset.json`` per subset (a JSON list of ``input``, ``output_1``, ``output_2``,
``label`` 1 or 2): ``LLMBar/Natural``, ``LLMBar/Adversarial/{Neighbor,GPTInst,GPTOut,Manual}``,
and the human-preference sets FairEval, LLMEval^2 and MT-Bench in the same format. A subset is
named by its folder.

Scoring (the paper, section 4): every instance is judged in both orders; accuracy is the mean
correctness over the two orders, positional agreement the share of instances whose two verdicts
agree. Both per subset; ``Adversarial`` is the mean of its four subsets.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from judge.bench.gold import GoldItem
from judge.bench.published.base import PublishedSuite, files_under, no_data, pair_item, read_rows
from judge.bench.published.base import require as require_fields
from judge.bench.published.orders import all_orders, prefers
from judge.errors import InputError

NAME = "llmbar"
BUILDER = "llmbar/1"
FIELDS = ("input", "output_1", "output_2", "label")
#: Subset names as reported, and the folder name each is recognised by (case and punctuation
#: ignored).
SUBSETS: dict[str, str] = {
    "Natural": "natural", "Adversarial/Neighbor": "neighbor", "Adversarial/GPTInst": "gptinst",
    "Adversarial/GPTOut": "gptout", "Adversarial/Manual": "manual", "FairEval": "faireval",
    "LLMEval^2": "llmeval2", "MT-Bench": "mtbench",
}
ADVERSARIAL = tuple(s for s in SUBSETS if s.startswith("Adversarial/"))
PRINCIPLE = ("Prefer the output that honestly and precisely carries out the instruction: do "
             "exactly what it asks, no more and no less; helpfulness, accuracy and harmlessness "
             "come next; length, tone and polish count only after that.")


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _subset(path: Path) -> str | None:
    by_key = {v: k for k, v in SUBSETS.items()}
    return by_key.get(_key(path.parent.name))


def load(root: Path) -> PublishedSuite:
    """Build the suite from the LLMBar ``Dataset`` folder, any folder under it, or one file.

    Raises:
        InputError: no ``dataset.json`` found, or a bad row (adapter, file, line, field named).
    """
    files = files_under(root, "dataset.json")
    if not files and root.is_file():
        files = [root]
    if not files:
        raise no_data(NAME, root, "SUBSET/dataset.json, e.g. LLMBar/Natural/dataset.json")
    items: list[GoldItem] = []
    found: set[str] = set()
    for path in files:
        subset = _subset(path) or path.parent.name
        found.add(subset)
        for line, row in read_rows(path, NAME):
            require_fields(row, FIELDS, NAME, path, line)
            label = row["label"]
            if label not in (1, 2):
                raise InputError(f"{NAME}: must be 1 or 2, got {label!r}", path=str(path),
                                 line=line, field="label")
            items.append(pair_item(
                item_id=f"{subset}-{line}", prompt=str(row["input"]),
                first=("output_1", str(row["output_1"])),
                second=("output_2", str(row["output_2"])), first_wins=label == 1,
                principle=PRINCIPLE, category=subset.partition("/")[0], domain="chat",
                metadata={"subset": subset, "row": line, "label": label}))
    if not items:
        raise no_data(NAME, root, "rows in the dataset.json files")
    missing = () if root.is_file() else tuple(s for s in SUBSETS if s not in found)
    return PublishedSuite(NAME, items, BUILDER, str(root), benchmark=NAME, missing=missing)


def instance(record: Mapping[str, Any]) -> tuple[float, bool]:
    """Correctness averaged over the two orders (a tie or no verdict is wrong), and whether the
    two verdicts are equal. As in LLMBar's own statistics (``equal``), two missing verdicts are
    equal, and one missing verdict equals nothing."""
    winner = "output_1" if record["meta"]["label"] == 1 else "output_2"
    verdicts = [prefers(v, "output_1", "output_2") for v in all_orders(record)]
    correct = sum(v == winner for v in verdicts) / max(len(verdicts), 1)
    agree = len(verdicts) == 2 and verdicts[0] == verdicts[1]
    return correct, agree


def item_score(record: Mapping[str, Any]) -> float:
    """Mean correctness over the two orders (for paired comparisons)."""
    return instance(record)[0]


def score(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Accuracy and positional agreement per subset, Adversarial mean and overall."""
    groups: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for r in records:
        groups[str(r["meta"]["subset"])].append(instance(r))
    out: dict[str, Any] = {}
    for name, rows in groups.items():
        out[name] = {"instances": len(rows),
                     "accuracy": 100.0 * sum(c for c, _ in rows) / len(rows),
                     "positional_agreement": 100.0 * sum(a for _, a in rows) / len(rows)}
    adv = [out[s] for s in ADVERSARIAL if s in out]
    if adv:
        out["Adversarial (mean)"] = {
            "instances": sum(a["instances"] for a in adv),
            **{k: sum(a[k] for a in adv) / len(adv)
               for k in ("accuracy", "positional_agreement")}}
    return out


def markdown(result: Mapping[str, Any]) -> list[str]:
    """Accuracy and positional agreement per subset."""
    lines = ["| Subset | Instances | Accuracy | Positional agreement |", "|---|---:|---:|---:|"]
    known = [*SUBSETS, "Adversarial (mean)"]
    for name in [*(k for k in known if k in result), *sorted(set(result) - set(known))]:
        g = result[name]
        lines.append(f"| {name} | {g['instances']} | {g['accuracy']:.1f} | "
                     f"{g['positional_agreement']:.1f} |")
    return lines + ["", ("Accuracy: mean over both orders; positional agreement: share of "
                    "instances whose two verdicts agree (LLMBar, section 4).")]
