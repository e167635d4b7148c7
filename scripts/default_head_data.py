"""Training data of the shipped default head, built from ../shared/data (see
train_default_head.py): AlpacaEval judge verdicts and Prometheus scores through the importer
(label records, then the distillation reader), RM-Bench contrast items under principle families.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from judge.distill.labels import LabelItem, item_from_row
from judge.label.importer import import_file
from judge.principles import resolve_principle

ALPACA = "alpaca-eval-judge/results/{name}/weighted_alpaca_eval_gpt4_turbo/annotations.json.gz"

RM_FILES = ("chat", "safety-response", "safety-refuse", "code")
STYLE = ("concise", "detailed", "markdown")
IDS = tuple(f"{kind}-{s}" for kind in ("correct", "wrong") for s in STYLE)
CLEAR_RATIO = 1.5

# Score tables over (concise, detailed plain, detailed markdown); `correct_first` adds a bonus
# larger than any style gap to the three correct responses. Equal scores = no preference.
FAMILIES: dict[str, dict[str, Any]] = {
    "concise": {"style": (2, 1, 1), "correct_first": True},
    "thorough": {"style": (0, 1, 2), "correct_first": True},
    "markdown": {"style": (1, 1, 2), "correct_first": True},
    "plain": {"style": (1, 1, 0), "correct_first": False},
    "correctness": {"style": (0, 0, 0), "correct_first": True},
}

# Principle wordings per family: library ids and free text. "heldout" wordings are never
# trained on; they measure how the head generalises to new phrasings.
WORDINGS: dict[str, dict[str, list[str]]] = {
    "concise": {
        "train": [
            "correct-then-concise",
            "Prefer the shortest correct answer; cut background, repetition and filler.",
            "Correct answers beat wrong ones; among correct answers, the briefer one wins.",
            ("Be concise: give the answer directly in as few words as possible, as long as it "
            "is right."),
        ],
        "heldout": ["Keep it short and to the point: accuracy first, then brevity."],
    },
    "thorough": {
        "train": [
            "correct-then-thorough",
            ("Prefer detailed, comprehensive answers that explain the reasoning, provided they "
            "are correct."),
            ("Correctness first; after that, reward depth: more explanation, examples and "
            "well-organised formatting."),
            ("The best response is complete and thorough, with headings or lists that make a "
            "long answer easy to follow."),
        ],
        "heldout": [("Favour in-depth, fully worked explanations over brief replies, but never "
                    "reward errors.")],
    },
    "markdown": {
        "train": ["structured-headings",
                  ("Prefer responses formatted with markdown: headings, bold key terms and "
                  "bullet lists.")],
        "heldout": ["Reward rich formatting such as section headers and bulleted lists."],
    },
    "plain": {
        "train": [("Write in plain prose: penalise markdown headings, bold text and bullet "
                  "lists.")],
        "heldout": ["Avoid markdown formatting; plain paragraphs are best."],
    },
    "correctness": {
        "train": ["factual-accuracy",
                  ("Only correctness matters: any factual, logical or code error loses, "
                  "whatever the style.")],
        "heldout": ["Judge accuracy alone and ignore length and formatting."],
    },
}


def family_scores(family: str, responses: tuple[str, ...]) -> tuple[float, ...]:
    """Scores for the six RM-Bench responses (IDS order) under a principle family.

    Identical texts (RM-Bench sometimes repeats a response across styles) get the mean of their
    scores, so no pair orders a text against itself.
    """
    spec = FAMILIES[family]
    bonus = 10.0 if spec["correct_first"] else 0.0
    scores = [bonus + s for s in spec["style"]] + [float(s) for s in spec["style"]]
    for text in set(responses):
        same = [n for n, r in enumerate(responses) if r == text]
        for n in same:
            scores[n] = sum(scores[m] for m in same) / len(same)
    return tuple(scores)


def _short(text: str, width: int = 44) -> str:
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def rm_bench_items(data: Path, split: str, files: tuple[str, ...] = RM_FILES
                   ) -> list[LabelItem]:
    """RM-Bench rows under every wording of every family (``split``: train or heldout)."""
    items = []
    for name in files:
        rows = json.loads((data / "rm-bench" / f"{name}_filtered.json").read_text())
        for row in rows:
            responses = tuple(row["chosen"]) + tuple(row["rejected"])
            for family, wordings in WORDINGS.items():
                for wording in wordings[split]:
                    p = resolve_principle(wording)
                    label = p.id if p.version else f"{family}: {_short(p.text)}"
                    items.append(LabelItem(
                        principle=p.text, principle_id=label, prompt=row["prompt"],
                        responses=responses,
                        scores=family_scores(family, responses), ids=IDS,
                        source=f"rm-bench/{name}"))
    return items


def style_items(items: list[LabelItem], weight: float) -> list[LabelItem]:
    """Extra weight on the pairs a principle's style decides: per RM-Bench item, the three
    correct and the three wrong responses again as separate items (weight ``weight``).

    Frozen sentence embeddings cannot tell a subtly wrong response from a correct one, so the
    correctness pairs mostly teach the head to memorise texts; up-weighting the style pairs
    keeps it following the principle on new prompts. These items are training-only: every
    held-out figure is computed on the plain items.
    """
    out = []
    for it in items:
        for part in (slice(0, 3), slice(3, 6)):
            scores = it.scores[part]
            if len(set(scores)) > 1:
                out.append(LabelItem(
                    principle=it.principle, principle_id=it.principle_id, prompt=it.prompt,
                    responses=it.responses[part], scores=scores, ids=it.ids[part],
                    source="style:" + it.source, weight=weight))
    return out



def record_items(path: Path, fmt: str, source: str, weight: float = 1.0, every: int = 1
                 ) -> list[LabelItem]:
    """Label items of one imported verdict file (importer -> label records -> reader); with
    ``every`` = k, only every k-th row (embedding time on a 2-core machine)."""
    out = []
    for n, rec in enumerate(import_file(path, fmt)):
        if rec["status"] == "ok" and n % every == 0:
            it = item_from_row(rec, source=source)
            out.append(dataclasses.replace(it, weight=weight))
    return out


def alpaca_items(data: Path, names: tuple[str, ...], weight: float, every: int = 2
                 ) -> list[LabelItem]:
    """GPT-4-turbo soft verdicts on the named answer sets (each item's group = answer set),
    on every ``every``-th instruction (the same instructions in every set)."""
    return [it for name in names
            for it in record_items(data / ALPACA.format(name=name), "alpaca-eval",
                                   "alpaca-eval/gpt4-turbo", weight, every)]


def prometheus_items(data: Path, weight: float) -> list[LabelItem]:
    """MT-Bench and Vicuna-Bench rubric items (GPT-4 mean scores), training only."""
    return [it for name in ("mt_bench", "vicuna")
            for it in record_items(data / "prometheus-eval" / f"{name}_eval.json", "prometheus",
                                   f"prometheus/{name}", weight)]


def hhh_items(data: Path) -> list[LabelItem]:
    """HHH alignment pairs (human labels per aspect), evaluation only."""
    items = record_items(data / "prometheus-eval" / "hhh_alignment_eval.json", "prometheus",
                         "hhh")
    return [dataclasses.replace(it, principle_id=it.group) for it in items]


def hard_cells(items: list[LabelItem], predicted: list[list[float]]) -> dict[str, Any]:
    """RM-Bench's 3x3 accuracy (chosen style x rejected style): hard = chosen plainer than
    rejected (the better response is the shorter one), normal = same style, easy = the rest."""
    from judge.distill.metrics import Agreement

    cells = {"hard": Agreement(), "normal": Agreement(), "easy": Agreement()}
    for it, pred in zip(items, predicted, strict=True):
        for i in range(3):
            for j in range(3):
                if it.responses[i] == it.responses[3 + j]:
                    continue
                cell = "hard" if i < j else "normal" if i == j else "easy"
                cells[cell].add([1.0, 0.0], [pred[i], pred[3 + j]])
    return {k: v.as_dict() for k, v in cells.items()}
