"""An oracle judge that answers from the gold labels: a sanity check for suites and reports.

``--backend oracle`` replies the gold order (it should score 100 on accuracy, tau and NDCG),
``oracle:reversed`` the reverse (0 accuracy, -100 tau), and ``oracle:noisy`` the gold values plus
seeded Gaussian noise. ``-B unparsed=0.1`` makes that share of replies unparsable, to see how a
report shows them. It reads the listwise template's JSON user turn, so it works with the default
listwise template only.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from judge.backends.scripted import ScriptedBackend
from judge.backends.shared.options import BackendOptions, parse_options
from judge.bench.gold import GoldItem
from judge.errors import ConfigError
from judge.types import Generation, GenerationRequest

Mode = Literal["gold", "reversed", "noisy"]


class OracleOptions(BackendOptions):
    """Options for the oracle backend (``-B KEY=VALUE``)."""

    noise: float = Field(1.0, ge=0.0)
    """Standard deviation of the noise added to gold values, in gold-range units (noisy mode)."""
    unparsed: float = Field(0.0, ge=0.0, le=1.0)
    """Share of replies that are not a verdict."""
    seed: int = 0


def oracle_backend(items: Sequence[GoldItem], mode: str = "gold",
                   **options: Any) -> ScriptedBackend:
    """A scripted backend whose replies come from each item's gold labels.

    Args:
        items: the suite's items (looked up by the ``item_id`` the judge attaches to requests).
        mode: ``gold``, ``reversed`` or ``noisy``.
        **options: see :class:`OracleOptions`.

    Raises:
        ConfigError: unknown mode or option.
    """
    if mode not in ("gold", "reversed", "noisy"):
        raise ConfigError(f"unknown oracle mode '{mode}'; use oracle, oracle:reversed or "
                          "oracle:noisy")
    opts = parse_options(OracleOptions, "oracle", options)
    by_id = {it.id: it for it in items}

    def reply(request: GenerationRequest) -> Generation:
        item = by_id.get(str(request.metadata.get("item_id")))
        if item is None:
            return Generation(error="oracle: request is not for a suite item")
        rng = random.Random(f"{opts.seed}:{item.id}:{request.metadata.get('permutation', 0)}")
        if opts.unparsed and rng.random() < opts.unparsed:
            return Generation(text="I find these responses hard to compare.",
                              finish_reason="stop")
        try:
            shown: dict[str, str] = json.loads(request.messages[-1].content)["responses"]
        except (ValueError, KeyError, TypeError):
            return Generation(error="oracle: needs the listwise template's JSON user turn")
        masked = _match(shown, item)
        gold = item.gold()
        lo, hi = min(gold.values()), max(gold.values())
        span = (hi - lo) or 1.0
        values = {m: (gold[c] - lo) / span for m, c in masked.items()}
        if mode == "reversed":
            values = {m: 1.0 - v for m, v in values.items()}
        elif mode == "noisy":
            values = {m: v + rng.gauss(0.0, opts.noise) for m, v in values.items()}
            vlo, vhi = min(values.values()), max(values.values())
            values = {m: (v - vlo) / ((vhi - vlo) or 1.0) for m, v in values.items()}
        scores = {m: round(1.0 + 4.0 * v, 3) for m, v in values.items()}
        order = sorted(scores, key=lambda m: -scores[m])
        return Generation(text=json.dumps({"scores": scores, "best-to-worst": order}),
                          finish_reason="stop")

    backend = ScriptedBackend(reply, name=f"oracle:{mode}")
    backend.model = "gold-labels"
    return backend


def create(target: str, *, items: Sequence[GoldItem], **options: Any) -> ScriptedBackend:
    """Factory for ``oracle``, ``oracle:reversed`` and ``oracle:noisy`` (registered in
    :mod:`judge.backends.registry`; ``judge bench run`` passes the suite's items)."""
    return oracle_backend(items, target or "gold", **options)


def _match(shown: dict[str, str], item: GoldItem) -> dict[str, str]:
    """Masked id -> the item's response id, matched by text (duplicates in order)."""
    free = list(item.responses.items())
    out = {}
    for masked, text in shown.items():
        n = next(i for i, (_, t) in enumerate(free) if t == text)
        out[masked] = free.pop(n)[0]
    return out
