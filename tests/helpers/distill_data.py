"""Synthetic labels with a principle-dependent length preference (shared by distill tests)."""

from __future__ import annotations

import random

from judge.distill.labels import LabelItem

SHORT = "Prefer the shortest answer that does the job."
LONG = "Prefer long, detailed answers that explain everything."
WORDS = ["apple", "banana", "cherry", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango"]


def make_items(n_prompts: int = 120, seed: int = 0) -> list[LabelItem]:
    """Each prompt has a short and a long answer; SHORT prefers the first, LONG the second."""
    rng = random.Random(seed)
    items = []
    for n in range(n_prompts):
        prompt = f"Question {n}: tell me about " + " ".join(rng.sample(WORDS, 3)) + "?"
        short = " ".join(rng.sample(WORDS, rng.randint(2, 5))) + "."
        long = " ".join(rng.choices(WORDS, k=rng.randint(40, 80))) + "."
        items.append(LabelItem(SHORT, "short", prompt, (short, long), (1.0, 0.0),
                               ids=("s", "l"), source="synthetic"))
        items.append(LabelItem(LONG, "long", prompt, (short, long), (0.0, 1.0),
                               ids=("s", "l"), source="synthetic"))
    return items
