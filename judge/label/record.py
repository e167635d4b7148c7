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

#: The response ids of a TRL preference row (``prompt``, ``chosen``, ``rejected``).
PREFERENCE_IDS = ("chosen", "rejected")

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
    reads), ``response_column`` (one response), or TRL's preference columns ``chosen`` and
    ``rejected`` (texts or chat messages; two responses with those ids, ranked listwise; without
    a prompt column they are whole dialogues, see :func:`implicit_prompt`). Prompts may be chat
    messages. An empty or null
    principle cell falls back to the judge's default principle.

    Raises:
        InputError: naming the missing or malformed field (and the bad response's index).
    """
    preference = row.get(responses_column) is None and row.get(response_column) is None and \
        row.get("chosen") is not None and row.get("rejected") is not None
    if preference and row.get(prompt_column) is None:
        prompt, responses = implicit_prompt(row["chosen"], row["rejected"])
    else:
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
        elif preference:
            responses = normalize_responses({k: row[k] for k in PREFERENCE_IDS}, field="")
        else:
            raise InputError(f"is required (or give one response in '{response_column}', or "
                             "'chosen' and 'rejected')", field=responses_column)
    principle = row.get(principle_column) if principle_column else None
    if principle is not None and not isinstance(principle, str):
        raise InputError(f"must be text, got {type(principle).__name__}", field=principle_column)
    ident = row.get(id_column) if id_column else None
    return Item(prompt=prompt, responses=responses, principle=principle or None,
                id=None if ident is None else str(ident))


def implicit_prompt(chosen: Any, rejected: Any) -> tuple[str, dict[str, str]]:
    """Prompt and responses of a TRL preference row without a prompt: ``chosen`` and
    ``rejected`` are whole dialogues sharing their turns up to the last assistant turn.

    >>> implicit_prompt([{"role": "user", "content": "2+2?"}, {"role": "assistant",
    ...                  "content": "4"}], [{"role": "user", "content": "2+2?"},
    ...                  {"role": "assistant", "content": "5"}])
    ('2+2?', {'chosen': '4', 'rejected': '5'})

    Raises:
        InputError: the rows are not dialogues ending with an assistant turn, or their
            prompts differ.
    """
    prompts, texts = [], {}
    for name, value in zip(PREFERENCE_IDS, (chosen, rejected), strict=True):
        if not (isinstance(value, list) and value and isinstance(value[-1], Mapping)
                and value[-1].get("role") == "assistant" and len(value) > 1):
            raise InputError("without a prompt column, 'chosen' and 'rejected' must be chat "
                             "dialogues ending with the assistant's turn (or add 'prompt')",
                             field=name)
        try:
            prompts.append(prompt_text(value[:-1]))
            texts[name] = response_text(value[-1])
        except InputError as exc:
            raise InputError(exc.detail, field=name) from None
    if prompts[0] != prompts[1]:
        raise InputError("the dialogues before the last assistant turn differ from 'chosen'; "
                         "a preference pair answers one prompt", field="rejected")
    return prompts[0], texts


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
