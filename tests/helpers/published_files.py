"""Small files in each published benchmark's own format, and run records built by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: JudgeBench rows: (source, label); response_B is always the longer one.
JB_ROWS = [("mmlu-pro-law", "A>B"), ("livebench-reasoning", "A>B"), ("livebench-math", "B>A"),
           ("livecodebench", "B>A"), ("mmlu-pro-math", "A>B")]


def write_judgebench(root: Path) -> Path:
    """``data/dataset=judgebench,response_model=gpt-4o-2024-05-13.jsonl`` as published."""
    rows = [{"pair_id": f"pair-{n}", "original_id": 100 + n, "source": src,
             "question": f"Question {n}: which option is right?",
             "response_model": "gpt-4o-2024-05-13",
             "response_A": f"The answer is A{n}.",
             "response_B": f"Working through it step by step, the answer is B{n}.",
             "label": label} for n, (src, label) in enumerate(JB_ROWS)]
    path = root / "data" / "dataset=judgebench,response_model=gpt-4o-2024-05-13.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return root


def write_llmbar(root: Path) -> Path:
    """``Dataset/LLMBar/{Natural,Adversarial/Neighbor}/dataset.json`` (two rows each)."""
    for sub, labels in (("Natural", (1, 2)), ("Adversarial/Neighbor", (1, 2))):
        rows = [{"input": f"{sub} instruction {n}: list two colours.",
                 "output_1": f"Red and blue. ({n})", "output_2": f"Colours are nice. ({n})",
                 "label": label} for n, label in enumerate(labels)]
        path = root / "Dataset" / "LLMBar" / sub / "dataset.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return root


RB2_ROWS: list[dict[str, Any]] = [
    {"id": "f1", "prompt": "Capital of France?", "chosen": ["Paris."],
     "rejected": ["Lyon.", "Nice, a city on the coast.", "Marseille."], "subset": "Factuality"},
    {"id": "f2", "prompt": "Capital of Italy?", "chosen": ["Rome."],
     "rejected": ["Milan.", "Turin.", "Naples."], "subset": "Factuality"},
    {"id": "m1", "prompt": "2+2?", "chosen": ["4", "four"], "rejected": ["5"], "subset": "Math"},
    {"id": "ref:1", "prompt": "Name a prime.", "chosen": ["2"], "rejected": ["4", "9"],
     "subset": "Ties", "num_correct": 1},
    {"id": "tied:1", "prompt": "Name a prime.", "chosen": ["2", "3", "5"], "rejected": ["4", "9"],
     "subset": "Ties", "num_correct": 3},
]


def write_rewardbench2(root: Path) -> Path:
    """``data/test-00000-of-00001.parquet`` as published on the hub."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = root / "data" / "test-00000-of-00001.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"num_correct": 1, **r} for r in RB2_ROWS]
    pq.write_table(pa.Table.from_pylist(rows), path)
    return root


def _styles(word: str) -> list[str]:
    return [f"{word}.", f"In detail: {word}, because of several reasons given here.",
            f"## Answer\n\n- **{word}**\n- with reasons"]


def write_rmbench(root: Path) -> Path:
    """``data/chat_filtered.json`` (2 prompts) and ``data/code_filtered.json`` (1 prompt)."""
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    chat = [{"id": n, "prompt": f"Chat question {n}?", "chosen": _styles(f"right{n}"),
             "rejected": _styles(f"wrong{n}"), "subset": "alpacaeval"} for n in range(2)]
    code = [{"id": 7, "prompt": "Write add(a, b).", "chosen": _styles("return a + b"),
             "rejected": _styles("return a - b"), "subset": "hep-python"}]
    (data / "chat_filtered.json").write_text(json.dumps(chat), encoding="utf-8")
    (data / "code_filtered.json").write_text(json.dumps(code), encoding="utf-8")
    return root


def write_prefgraph(root: Path) -> Path:
    """``graphs.jsonl``: a four-response partial order and a two-response one."""
    rows = [{"id": "g1", "prompt": "Write a haiku about rain, all lower case.",
             "responses": ["soft rain on the roof", "Soft Rain", "rain falls", "A poem."],
             "edges": [[0, 1], [0, 2], [1, 3]], "subset": "format"},
            {"id": "g2", "instruction": "Answer in one word: sky colour?",
             "responses": {"a": "Blue.", "b": "It is usually blue during the day."},
             "preferences": [["a", "b"]], "subset": "length"}]
    path = root / "graphs.jsonl"
    root.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def entry(values: dict[str, float] | None) -> dict[str, Any]:
    """One order's verdict given as scores (no ranking, so score ties stay ties)."""
    if values is None:
        return {"order": [], "status": "unparsed", "scores": None, "ranking": None}
    return {"order": list(values), "status": "ok", "scores": dict(values), "ranking": None}


def record(gold: dict[str, float], meta: dict[str, Any], first: dict[str, float] | None,
           second: dict[str, float] | None, *, lengths: dict[str, int] | None = None,
           item_id: str = "x") -> dict[str, Any]:
    """A both-orders run record as the runner writes it (only the fields scorers read)."""
    return {"item_id": item_id, "item_hash": item_id, "gold": gold, "meta": meta,
            "status": "ok", "scores": first, "ranking": None, "direct": False,
            "orders": [entry(first), entry(second)],
            "lengths": lengths or {k: 10 for k in gold}}
