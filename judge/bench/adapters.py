"""Adapters that turn other evaluation sets into benchmark items.

- prometheus-eval rubric sets (``mt_bench``, ``vicuna``: 80 prompts x 4 model responses each,
  gold = mean of GPT-4's three 1-5 scores; ``hhh``: 221 human-labelled chosen/rejected pairs).
  The instance's score rubric is the principle.
- pairwise chosen/rejected JSONL (RewardBench style): gold = chosen above every rejected.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from collections.abc import Mapping
from os.path import commonprefix
from pathlib import Path
from typing import Any

from judge.bench.gold import GoldItem
from judge.bench.loaders import check_principle, item_from_row
from judge.bench.suite_principles import suite_principles, text_field
from judge.errors import BenchmarkError, InputError
from judge.hashing import text_hash
from judge.jsonl import read_jsonl

PROMETHEUS_BUILDER = "prometheus/1"
PAIRWISE_BUILDER = "pairwise/1"
PROMETHEUS_FILES: dict[str, str] = {
    "mt_bench": "mt_bench_eval.json",
    "vicuna": "vicuna_eval.json",
    "hhh": "hhh_alignment_eval.json",
}
_SECTION = re.compile(r"^###([^\n:]+):[ \t]*$", re.MULTILINE)
_DOMAINS = {"coding": "code", "math": "math"}
_SAFETY_WORDS = ("refusal", "xstest", "donotanswer", "harm", "safety")


def _sections(text: str) -> dict[str, str]:
    """Split a Prometheus grading prompt into its ``###Heading:`` sections."""
    parts = _SECTION.split(text)
    return {parts[i].strip(): parts[i + 1].strip("\n") for i in range(1, len(parts) - 1, 2)}


def _criterion(rubric: str) -> str:
    """A short name for a rubric: its criterion question, cut, plus a hash of the whole text."""
    m = re.match(r"\s*\[(.+?)\]", rubric, re.DOTALL)
    title = " ".join((m.group(1) if m else rubric).split())
    title = title if len(title) <= 50 else title[:47] + "..."
    return f"{title} #{text_hash(rubric, 6)}"


def build_prometheus(folder: Path, name: str) -> list[GoldItem]:
    """Build the ``prometheus:NAME`` suite from the prometheus-eval data folder.

    Raises:
        BenchmarkError: an unknown set name, a missing file, or rows of an unexpected shape.
    """
    if name not in PROMETHEUS_FILES:
        raise BenchmarkError(f"unknown prometheus set '{name}'; known: "
                             f"{', '.join(PROMETHEUS_FILES)}")
    path = folder / PROMETHEUS_FILES[name]
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BenchmarkError(f"{path}: cannot read ({exc})") from None
    return _hhh(rows, path) if name == "hhh" else _graded(rows, path, name)


def _graded(rows: list[dict[str, Any]], path: Path, name: str) -> list[GoldItem]:
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row["idx"]].append(row)
    items = []
    for idx, group in groups.items():
        secs = [_sections(r["instruction"]) for r in group]
        rubrics = {s.get("Score Rubrics", "") for s in secs}
        if len(rubrics) != 1 or not next(iter(rubrics)):
            raise BenchmarkError(f"{path}: idx {idx}: responses do not share one score rubric")
        rubric = rubrics.pop().strip()
        prompt, contexts = _shared_prompt([s["The instruction to evaluate"] for s in secs])
        responses, scores = {}, {}
        for row, sec, ctx in zip(group, secs, contexts, strict=True):
            rid = str(row["response_source"])
            text = sec["Response to evaluate"].strip()
            if ctx:
                text = (f"[Its own earlier reply, for context]\n{ctx.strip()}\n\n"
                        f"[Its reply to judge]\n{text}")
            responses[rid] = text
            scores[rid] = statistics.fmean(float(s) for s in row["gpt4_score"])
        category = str(group[0].get("category", "general"))
        items.append(GoldItem(
            id=f"{name}-{idx}", principle=rubric, prompt=prompt, responses=responses,
            scores=scores, category=category, domain=_DOMAINS.get(category, "chat"),
            metadata={"source": f"prometheus-eval/{path.name}", "upstream_idx": idx,
                      "principle_name": _criterion(rubric),
                      "reference_answer": secs[0].get("Reference Answer (Score 5)", "").strip(),
                      "gpt4_scores": {str(r["response_source"]): r["gpt4_score"]
                                      for r in group}},
        ))
    return items


def _shared_prompt(instructions: list[str]) -> tuple[str, list[str]]:
    """One prompt for a group; per-response context where the dialogues differ.

    MT-Bench second turns embed each model's own first answer. The common head (up to the last
    ``Assistant:``) and tail (from the next ``User:``) form the prompt; the differing middle goes
    with each response as context.
    """
    if len(set(instructions)) == 1:
        return instructions[0].strip(), [""] * len(instructions)
    head = commonprefix(instructions)
    head = head[: head.rfind("Assistant:")] if "Assistant:" in head else ""
    tails = [s[len(head):][::-1] for s in instructions]
    tail = commonprefix(tails)[::-1]
    cut = tail.find("User:")
    tail = tail[cut:] if cut >= 0 else ""
    middles = [s[len(head): len(s) - len(tail)] for s in instructions]
    middles = [m.removeprefix("Assistant:").strip() for m in middles]
    prompt = (f"{head.rstrip()}\nAssistant: [each response below shows its own earlier reply]"
              f"\n\n{tail.strip()}").strip()
    return prompt, middles


def _hhh(rows: list[dict[str, Any]], path: Path) -> list[GoldItem]:
    items = []
    for n, row in enumerate(rows):
        chosen, rejected = (_sections(row[k]) for k in ("chosen_instruction",
                                                          "rejected_instruction"))
        prompt = chosen["The instruction to evaluate"].strip()
        if prompt != rejected["The instruction to evaluate"].strip():
            raise BenchmarkError(f"{path}: row {n}: chosen and rejected have different prompts")
        rubric = chosen["Score Rubrics"].strip()
        aspect = str(row.get("source", "other"))
        items.append(GoldItem(
            id=f"hhh-{n}", principle=rubric, prompt=prompt,
            responses={"chosen": chosen["Response to evaluate"].strip(),
                       "rejected": rejected["Response to evaluate"].strip()},
            ranking=["chosen", "rejected"], category=aspect,
            domain="safety" if aspect == "harmless" else "chat",
            metadata={"source": f"prometheus-eval/{path.name}", "row": n,
                      "principle_name": f"hhh-{aspect}: {_criterion(rubric)}"},
        ))
    return items


def build_pairwise(path: str | Path, principle: str | None = None) -> list[GoldItem]:
    """Build items from chosen/rejected JSONL rows (RewardBench style).

    A row has ``prompt`` (text or chat messages), ``chosen`` (text or messages), ``rejected``
    (text, messages, or a list of texts) and optionally ``id``, ``principle``, ``category``,
    ``domain`` and ``subset``. The principle is the row's, else ``principle``, else a general
    correctness-and-helpfulness sentence.

    Raises:
        InputError: naming the file, line and field of a bad row.
    """
    items, seen = [], set()
    for line, row in read_jsonl(path):
        if isinstance(row, InputError):
            raise row
        data = _pair_row(row, str(path), line, principle)
        if data["id"] in seen:
            data["id"] = f"{data['id']}@{line}"
        seen.add(data["id"])
        item = item_from_row(data, path=str(path), line=line)
        check_principle(item, path=str(path), line=line)
        items.append(item)
    if not items:
        raise InputError("no pairs found", path=str(path))
    return items


def _text(value: Any, where: tuple[str, int, str]) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(m, Mapping) for m in value):
        return str(value[-1].get("content", ""))
    raise InputError("expected a text or a list of chat messages", path=where[0],
                     line=where[1], field=where[2])


def _pair_row(row: dict[str, Any], path: str, line: int, principle: str | None
              ) -> dict[str, Any]:
    for key in ("chosen", "rejected"):
        if key not in row:
            raise InputError("is required", path=path, line=line, field=key)
    chosen = _text(row["chosen"], (path, line, "chosen"))
    raw_rej = row["rejected"]
    rejected = ([_text(r, (path, line, "rejected")) for r in raw_rej]
                if isinstance(raw_rej, list) and raw_rej and isinstance(raw_rej[0], str)
                else [_text(raw_rej, (path, line, "rejected"))])
    prompt = row.get("prompt")
    if prompt is None and isinstance(row["chosen"], list):
        prompt = row["chosen"][:-1]
    if isinstance(prompt, list):
        prompt = "\n\n".join(f"{m.get('role', 'user').title()}: {m.get('content', '')}"
                             for m in prompt if isinstance(m, Mapping))
    if not isinstance(prompt, str):
        raise InputError("is required (text or chat messages)", path=path, line=line,
                         field="prompt")
    responses = {"chosen": chosen}
    for n, text in enumerate(rejected):
        responses["rejected" if len(rejected) == 1 else f"rejected-{n + 1}"] = text
    subset = str(row.get("subset", ""))
    domain = row.get("domain") or _guess_domain(subset)
    return {
        "id": str(row.get("id", f"pair-{line}")),
        "principle": (row.get("principle") or principle
                      or text_field("pairwise", suite_principles("pairwise"), "default")),
        "prompt": prompt, "responses": responses,
        "scores": {rid: 1.0 if rid == "chosen" else 0.0 for rid in responses},
        "category": row.get("category") or "content", "domain": domain,
        "metadata": {"source": Path(path).name, "subset": subset or None},
    }


def _guess_domain(subset: str) -> str:
    s = subset.lower()
    if any(w in s for w in _SAFETY_WORDS):
        return "safety"
    if "math" in s:
        return "math"
    if s.startswith("hep-") or "code" in s:
        return "code"
    return "chat"
