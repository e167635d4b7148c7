"""What a label adds to a row, how a row becomes a judge item, and the keys that identify work.

Columns added to every output row (parquet-friendly: one type per column):

===================  =======================================================================
``scores``           list of floats in the row's response order; null when the verdict failed
``score``            the single score of a one-response row (pointwise), else null
``ranking``          best-to-worst list of 0-based positions into the row's responses
``status``           one of :data:`judge.types.ROW_STATUSES`
``reasoning``        the judge's thinking, when it wrote any
``problems``         plain-language reasons a verdict was repaired or failed
``flags``            machine-readable warnings (``truncated``, ``ranking_contradicts_scores``)
``raw``              the judge's raw text, one entry per permutation run (null for heads)
``mode``             ``listwise`` or ``pointwise``
``scale``            the score scale, e.g. ``[1, 5]``; null for unbounded head scores
``logprob_scores``   logprob-weighted scores in response order, when the backend gave logprobs
``consistency``      mean Kendall tau between permutation runs, when several ran
``provenance``       principle id/version/hash, template + hash, backend, model, sampling, seed
``label_key``        the content key of this label in the journal
``rewards``          normalised rewards in response order (only with ``--normalize``)
===================  =======================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from judge.backends.base import ScoringBackend
from judge.core import Judge
from judge.errors import ConfigError, InputError, PrincipleError
from judge.hashing import json_hash
from judge.items import Item, normalize_responses
from judge.messages import prompt_text, response_text
from judge.types import INVALID_INPUT, Judgment, Mode

#: Every column a label adds (before any prefix).
LABEL_COLUMNS = ("scores", "score", "ranking", "status", "reasoning", "problems", "flags", "raw",
                 "mode", "scale", "logprob_scores", "consistency", "provenance", "label_key",
                 "rewards")


def label_fields(j: Judgment) -> dict[str, Any]:
    """The columns a verdict adds to its row (see the module table)."""
    ids = list(j.ids)
    scores = [j.scores[c] for c in ids] if j.scores is not None else None
    position = {c: n for n, c in enumerate(ids)}
    raw = [j.raw] if isinstance(j.raw, str) else j.raw
    return {
        "scores": scores,
        "score": scores[0] if scores is not None and len(ids) == 1 else None,
        "ranking": [position[c] for c in j.ranking] if j.ranking else None,
        "status": j.status,
        "reasoning": j.reasoning,
        "problems": list(j.problems),
        "flags": list(j.flags),
        "raw": raw,
        "mode": j.mode,
        "scale": list(j.scale) if j.scale is not None else None,
        "logprob_scores": ([j.logprob_scores[c] for c in ids]
                           if j.logprob_scores is not None else None),
        "consistency": j.consistency,
        "provenance": j.provenance.model_dump(mode="json"),
    }


def invalid_fields(message: str) -> dict[str, Any]:
    """The columns of a row that could not be judged."""
    return {"scores": None, "score": None, "ranking": None, "status": INVALID_INPUT,
            "reasoning": None, "problems": [message], "flags": [], "raw": None, "mode": None,
            "scale": None, "logprob_scores": None, "consistency": None, "provenance": None}


def row_item(row: Mapping[str, Any], *, prompt_column: str, responses_column: str,
             response_column: str, principle_column: str | None,
             id_column: str | None) -> Item:
    """The judge item of a row.

    The row gives ``responses_column`` (any shape :func:`judge.items.normalize_responses`
    reads) or ``response_column`` (one response). Prompts may be chat messages. An empty or null
    principle cell falls back to the judge's default principle.

    Raises:
        InputError: naming the missing or malformed field (and the bad response's index).
    """
    if prompt_column not in row or row[prompt_column] is None:
        raise InputError("is required", field=prompt_column)
    try:
        prompt = prompt_text(row[prompt_column])
    except InputError as exc:
        raise InputError(exc.detail, field=prompt_column) from None
    if row.get(responses_column) is not None:
        responses = normalize_responses(row[responses_column], field=responses_column)
    elif row.get(response_column) is not None:
        try:
            responses = {"0": response_text(row[response_column])}
        except InputError as exc:
            raise InputError(exc.detail, field=response_column) from None
    else:
        raise InputError(f"is required (or give one response in '{response_column}')",
                         field=responses_column)
    principle = row.get(principle_column) if principle_column else None
    if principle is not None and not isinstance(principle, str):
        raise InputError(f"must be text, got {type(principle).__name__}", field=principle_column)
    ident = row.get(id_column) if id_column else None
    return Item(prompt=prompt, responses=responses, principle=principle or None,
                id=None if ident is None else str(ident))


def principle_hash(judge: Judge, item: Item, column: str | None) -> str:
    """The hash of the principle an item is judged under.

    Raises:
        InputError: the principle is unknown, or missing with no default.
    """
    if item.principle is None and judge.principle is None:
        raise InputError("missing, and no --principle default was given", field=column)
    try:
        return judge.principle_for(item).hash
    except PrincipleError as exc:
        raise InputError(str(exc), field=column) from None


def judge_fingerprint(judge: Judge) -> str:
    """A hash of everything in a judge's configuration that can change a label."""
    backend = judge.backend
    templates: dict[str, str | None] = {}
    if not isinstance(backend, ScoringBackend):  # direct scorers use no template
        modes: tuple[Mode, ...] = ("listwise", "pointwise")
        for mode in modes:
            try:
                templates[mode] = judge.template_for(mode).hash
            except ConfigError:
                templates[mode] = None
    return json_hash({
        "backend": backend.name, "model": backend.model,
        "backend_fingerprint": getattr(backend, "fingerprint", None),
        "default_principle": judge.principle.hash if judge.principle else None,
        "seed": judge.seed, "sampling": judge.sampling.model_dump(), "shuffle": judge.shuffle,
        "permutations": judge.permutations, "structured": judge.structured,
        "templates": templates,
    })


def content_key(config: str, principle: str, item: Item, occurrence: int) -> str:
    """The journal key of one row: judge config + judged content + which duplicate it is."""
    return json_hash({"cfg": config, "p": principle, "q": item.prompt, "r": item.responses,
                      "n": occurrence}, length=24)
