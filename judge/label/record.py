"""What a label adds to a row, how a row becomes a judge item, and the keys that identify work.

Every output row keeps the input's columns and adds the columns of a labelled record
(:mod:`judge.record`: ``schema``, ``item``, ``status``, ``scores``, ``ranking``... each with the
run's ``--prefix``), plus:

===================  =======================================================================
``label_key``        the content key of this label in the journal (null for invalid rows)
``rewards``          normalised rewards in response order (only with ``--normalize``)
===================  =======================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from judge.core import Judge
from judge.errors import InputError, PrincipleError
from judge.hashing import json_hash
from judge.items import Item, normalize_responses
from judge.messages import prompt_text, response_text
from judge.record import RECORD_FIELDS, RECORD_SCHEMA, verdict_record
from judge.types import Judgment

#: Every column a label adds (before any prefix).
LABEL_COLUMNS = (*RECORD_FIELDS, "label_key", "rewards")


#: What a label journal line holds besides key, config and status: the row number and the
#: verdict's record fields (not ``item``, which the output step rebuilds from the input row).
JOURNAL_FIELDS = ("row", *(f for f in RECORD_FIELDS if f not in ("item", "status")))


def verdict_fields(j: Judgment) -> dict[str, Any]:
    """What the journal keeps of a verdict: its record without the ``item``."""
    return {k: v for k, v in verdict_record(j).items() if k != "item"}


def check_journal_record(record: dict[str, Any]) -> str | None:
    """What is wrong with a label journal line's shape, or None."""
    if record["schema"] != RECORD_SCHEMA:
        return f"record schema {record['schema']!r}, not {RECORD_SCHEMA!r}"
    if not isinstance(record["row"], int) or isinstance(record["row"], bool):
        return "'row' is not a number"
    for name in ("scores", "logprob_scores"):
        value = record[name]
        if value is not None and not (isinstance(value, dict) and all(
                isinstance(v, (int, float)) for v in value.values())):
            return f"'{name}' is not an id -> number object"
    if not isinstance(record["problems"], list) or not isinstance(record["flags"], list):
        return "'problems' or 'flags' is not a list"
    return None


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


def content_key(config: str, principle: str, item: Item, occurrence: int) -> str:
    """The journal key of one row: judge config + judged content + which duplicate it is."""
    return json_hash({"cfg": config, "p": principle, "q": item.prompt, "r": item.responses,
                      "n": occurrence}, length=24)
