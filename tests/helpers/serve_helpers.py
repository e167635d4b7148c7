"""A deterministic scorer for server tests: records every batch it is given."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from pathlib import Path

from judge.errors import BackendUnavailable
from judge.principles import Principle
from judge.serve.scorers import Item, ItemResult
from judge.types import GenerationRequest

PRINCIPLE = "correct-then-concise"


class LengthScorer:
    """Scores a response by minus its length under concise principles, plus it otherwise."""

    name = "length"
    model = None
    scale = None

    def __init__(self, delay_s: float = 0.0) -> None:
        self.batches: list[int] = []
        self.delay_s = delay_s
        self.lock = threading.Lock()

    def score_items(self, items: list[Item]) -> list[ItemResult]:
        with self.lock:
            self.batches.append(len(items))
        if self.delay_s:
            time.sleep(self.delay_s)
        out = []
        for item in items:
            principle, responses = item.principle, list(item.responses.values())
            assert isinstance(principle, Principle)
            sign = -1.0 if "concise" in principle.id or "short" in principle.text.lower() else 1.0
            out.append(ItemResult([sign * len(r) for r in responses]))
        return out

    def close(self) -> None:
        pass


def tiny_head(folder: Path) -> Path:
    """Train and save a small hash-embedder head that prefers short answers under 'Be brief.'."""
    from judge.distill.embedders import HashEmbedder
    from judge.distill.heads import HeadArch
    from judge.distill.labels import LabelItem
    from judge.distill.train import TrainConfig, fit_head

    items = []
    for n in range(30):
        short, long = f"answer {n}.", " ".join(["more detail here"] * 20) + f" {n}."
        items.append(LabelItem("Be brief.", "brief", f"question {n}?", (short, long), (1, 0)))
        items.append(LabelItem("Be thorough.", "thorough", f"question {n}?", (short, long),
                               (0, 1)))
    config = TrainConfig(arch=HeadArch(kind="ensemble", members=2, hidden=8), epochs=10,
                         test_fraction=0.0)
    fit_head(items, HashEmbedder(32), config, name="tiny").save(folder)
    return folder


class EncodingScorer(LengthScorer):
    """Encodes every text as UTF-8 first, as a tokenizer does (a lone surrogate raises), and
    fails on a response that is exactly ``"boom"``; scores each response on its own."""

    independent_responses = True

    def __init__(self, delay_s: float = 0.0) -> None:
        super().__init__(delay_s)
        self.seen: list[str] = []

    def score_items(self, items: list[Item]) -> list[ItemResult]:
        for item in items:
            principle, responses = item.principle, list(item.responses.values())
            assert isinstance(principle, Principle)
            for text in (principle.text, item.prompt, *responses):
                text.encode("utf-8")
            if "boom" in responses:
                raise RuntimeError("the model crashed on 'boom'")
            with self.lock:
                self.seen.extend(responses)
        return super().score_items(items)


def quality(text: str) -> int:
    """The digit after 'quality' in a response (3 without one)."""
    found = re.search(r"quality (\d)", text)
    return int(found.group(1)) if found else 3


class Judged:
    """A scripted judge scoring each response by the digit after 'quality'; counts its calls
    and fails every ``fail_every``-th call (alternately raising and answering prose)."""

    def __init__(self, fail_every: int = 0, down: bool = False) -> None:
        self.listwise: list[list[str]] = []
        self.pointwise: list[str] = []
        self.fail_every, self.down = fail_every, down
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    def reply(self, req: GenerationRequest) -> str:
        shown = json.loads(req.messages[-1].content)
        with self.lock:
            k = next(self.counter)
            if "responses" in shown:
                self.listwise.append(list(shown["responses"].values()))
            else:
                self.pointwise.append(shown["response"])
        if self.down:
            raise BackendUnavailable("the judge server at 127.0.0.1:9 refused the connection")
        if self.fail_every and k % self.fail_every == 0:
            if (k // self.fail_every) % 2:
                raise BackendUnavailable("injected failure")
            return "I cannot decide."
        if "response" in shown:
            return json.dumps({"score": quality(shown["response"])})
        scores = {i: quality(t) for i, t in shown["responses"].items()}
        return json.dumps({"scores": scores,
                           "best-to-worst": sorted(scores, key=lambda i: -scores[i])})
