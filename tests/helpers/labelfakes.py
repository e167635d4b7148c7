"""Content-based fake judges for labeling and reward tests (no model).

* :func:`verdict` answers a rendered judge request from the texts it shows: longer responses
  score higher (1-5). A prompt containing ``UNPARSABLE`` gets prose instead of JSON, and one
  containing ``BACKEND_ERROR`` gets a per-item backend error.
* :class:`LengthHead` is a direct scorer (like a distilled head): score = characters / 10.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from judge.backends.scripted import ScriptedBackend
from judge.core import Judge
from judge.items import Item, resolved_principle
from judge.types import Generation, GenerationRequest


def text_score(text: str) -> int:
    """1-5, growing with length."""
    return max(1, min(5, len(text) // 8 + 1))


def verdict(request: GenerationRequest) -> str | Generation:
    """A verdict computed from the request's texts."""
    data = json.loads(request.messages[-1].content)
    if "BACKEND_ERROR" in data["prompt"]:
        return Generation(error="simulated backend failure")
    if "UNPARSABLE" in data["prompt"]:
        return "I would rather not answer in JSON."
    if "responses" in data:
        scores = {mid: text_score(text) for mid, text in data["responses"].items()}
        order = sorted(scores, key=lambda m: -scores[m])
        return json.dumps({"scores": scores, "best-to-worst": order})
    return json.dumps({"score": text_score(data["response"])})


def fake_backend(delay: float = 0.0) -> ScriptedBackend:
    """A scripted backend answering with :func:`verdict` (optionally sleeping per request)."""
    def reply(request: GenerationRequest) -> str | Generation:
        if delay:
            time.sleep(delay)
        return verdict(request)
    return ScriptedBackend(reply, name="scripted:fake-length")


class LengthHead:
    """A direct scorer: each response's score is its length in characters / 10."""

    name = "fake-head"
    model: str | None = None

    def __init__(self) -> None:
        self.calls: list[list[tuple[str, str, list[str]]]] = []

    def score_batch(self, items: Sequence[Item]) -> list[list[float]]:
        self.calls.append([(resolved_principle(it).text, it.prompt, list(it.responses.values()))
                           for it in items])
        return [[len(r) / 10 for r in it.responses.values()] for it in items]

    def close(self) -> None:
        pass


def make_rows(n: int, seed: int = 0) -> list[dict]:
    """Rows with 1-4 responses of random lengths, a few duplicates and a per-row principle."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        k = rng.choice([1, 2, 3, 4])
        row: dict = {"id": i, "prompt": f"question {i % 37}", "meta": {"n": i}}
        texts = ["w" * rng.randint(1, 45) for _ in range(k)]
        if k == 1:
            row["response"] = texts[0]
        else:
            row["responses"] = texts
        if i % 5 == 0:
            row["principle"] = "no-sycophancy"
        rows.append(row)
    return rows


def write_jsonl(path: Path, rows: list) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows)
    return path


def read_jsonl_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def text_judge() -> Judge:
    """A generative judge whose verdicts follow response length (scripted, no model)."""
    return Judge(fake_backend(), principle="correct-then-concise")


@pytest.fixture
def head_judge() -> Judge:
    """A judge over a direct scorer (score = length / 10), like a distilled head."""
    return Judge(LengthHead(), principle="correct-then-concise")

