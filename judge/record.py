"""The labelled record: the item a judge saw plus its verdict, in one shape.

``judge rank``, ``judge label`` and ``judge bench run`` write it (rank and label next to the input
row's own columns, label with an optional prefix); ``judge distill`` and ``judge bench report``
read it. Every record carries ``schema``, so a reader can tell it from older files.

=================  ================================  ============================================
field              JSON type                         meaning
=================  ================================  ============================================
``schema``         string                            :data:`RECORD_SCHEMA` (``judge.record/1``)
``item``           object or null                    what was judged (null when the row could
                                                     not be read): ``id``, ``prompt``,
                                                     ``responses`` (list of ``{id, text}``) and
                                                     ``principle`` (``{id, text, hash, version}``:
                                                     the text the judge read, so a free-text
                                                     principle never has to be typed again)
``status``         string                            :data:`judge.types.ROW_STATUSES`
``mode``           string or null                    ``listwise``, ``pointwise`` or ``pairwise``
``scores``         object or null                    response id -> score; set only for usable
                                                     statuses (:data:`judge.types.USABLE_STATUSES`)
``ranking``        list of ids or null               best to worst, agreeing with ``scores``
``scale``          [lo, hi] or null                  the score scale; null for unbounded scores
``reasoning``      string or null                    the judge's thinking
``problems``       list of strings                   why the verdict was repaired or failed; for
                                                     ``invalid_input``, file:line: field: reason
``flags``          list of strings                   machine-readable warnings
``raw``            list of strings or null           the judge's text, one per run (null: heads)
``logprob_scores`` object or null                    id -> logprob-weighted score
``consistency``    number or null                    mean Kendall tau between permutation runs
``runs``           integer                           runs judged (0 for invalid input)
``parsed_runs``    integer                           runs aggregated into the verdict
``provenance``     object or null                    principle ref, template, backend, model,
                                                     sampling, seed, orders, package version
=================  ================================  ============================================

In parquet and saved datasets (:func:`to_table_row`) the id-keyed objects ``scores`` and
``logprob_scores`` become lists of ``{id, score}`` structs and ``provenance`` a JSON string, so a
column has one fixed type instead of a struct with a field per response id; :func:`from_row`
reads either form.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from judge.errors import InputError
from judge.items import Item
from judge.principles import Principle
from judge.types import INVALID_INPUT, Judgment

RECORD_SCHEMA = "judge.record/1"
"""The schema written in every record; bump it when a field changes meaning."""
_SCHEMA_PREFIX = "judge.record/"

#: Every field of a record, in the order they are written.
RECORD_FIELDS: tuple[str, ...] = (
    "schema", "item", "status", "mode", "scores", "ranking", "scale", "reasoning", "problems",
    "flags", "raw", "logprob_scores", "consistency", "runs", "parsed_runs", "provenance")
_ID_MAPS = ("scores", "logprob_scores")


def item_fields(item: Item, principle: Principle | None) -> dict[str, Any]:
    """The ``item`` part of a record."""
    return {
        "id": item.id, "prompt": item.prompt,
        "responses": [{"id": k, "text": v} for k, v in item.responses.items()],
        "principle": None if principle is None else {
            "id": principle.id, "text": principle.text, "hash": principle.hash,
            "version": principle.version},
    }


def make_record(item: Item, judgment: Judgment, principle: Principle) -> dict[str, Any]:
    """The record of one judged item (see the module table).

    Example:
        >>> from judge import Judge, ScriptedBackend
        >>> from judge.items import coerce_item
        >>> judge = Judge(ScriptedBackend(['{"score": 4}']), principle="Be brief.")
        >>> item = coerce_item({"prompt": "2+2?", "response": "4"})
        >>> rec = make_record(item, judge.score([item])[0], judge.principle_for(item))
        >>> rec["schema"], rec["scores"], rec["item"]["principle"]["text"]
        ('judge.record/1', {'0': 4.0}, 'Be brief.')
    """
    return {**verdict_record(judgment), "item": item_fields(item, principle)}


def labelled_row(row: Mapping[str, Any], item: Item, judgment: Judgment, principle: Principle,
                 *, prefix: str = "") -> dict[str, Any]:
    """An input row with its record's fields added (named ``prefix + field``): what ``judge
    rank`` writes per row, and the one way to turn (input row, verdict) into an output row."""
    record = make_record(item, judgment, principle)
    return {**row, **{prefix + k: v for k, v in record.items()}}


def verdict_record(judgment: Judgment) -> dict[str, Any]:
    """A record with ``item`` null: the verdict part alone."""
    raw = [judgment.raw] if isinstance(judgment.raw, str) else judgment.raw
    return {
        "schema": RECORD_SCHEMA, "item": None, "status": judgment.status,
        "mode": judgment.mode, "scores": judgment.scores, "ranking": judgment.ranking,
        "scale": list(judgment.scale) if judgment.scale is not None else None,
        "reasoning": judgment.reasoning, "problems": list(judgment.problems),
        "flags": list(judgment.flags), "raw": raw, "logprob_scores": judgment.logprob_scores,
        "consistency": judgment.consistency, "runs": judgment.runs,
        "parsed_runs": judgment.parsed_runs,
        "provenance": judgment.provenance.model_dump(mode="json"),
    }


def invalid_record(message: str, item: Item | None = None,
                   principle: Principle | None = None) -> dict[str, Any]:
    """The record of a row that could not be judged: status ``invalid_input`` and the reason."""
    return {
        "schema": RECORD_SCHEMA, "item": item_fields(item, principle) if item else None,
        "status": INVALID_INPUT, "mode": None, "scores": None, "ranking": None, "scale": None,
        "reasoning": None, "problems": [message], "flags": [], "raw": None,
        "logprob_scores": None, "consistency": None, "runs": 0, "parsed_runs": 0,
        "provenance": None,
    }


def to_table_row(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A record's columns in their parquet form (see the module docstring)."""
    out = dict(record)
    for key in _ID_MAPS:
        value = out.get(prefix + key)
        if isinstance(value, Mapping):
            out[prefix + key] = [{"id": k, "score": float(v)} for k, v in value.items()]
    prov = out.get(prefix + "provenance")
    if isinstance(prov, Mapping):
        out[prefix + "provenance"] = json.dumps(prov, ensure_ascii=False)
    return out


def record_prefix(row: Mapping[str, Any]) -> str | None:
    """The prefix of the record columns in ``row`` (``""`` when unprefixed), or None when the row
    holds no record (an input row, or a file written before records had a schema).

    Raises:
        InputError: the row holds several records (a labelled file labelled again with a prefix).
    """
    found = [key[: -len("schema")] for key, value in row.items()
             if isinstance(key, str) and key.endswith("schema") and isinstance(value, str)
             and value.startswith(_SCHEMA_PREFIX)]
    if len(found) > 1:  # e.g. a labelled file labelled again with --prefix: which one is meant?
        columns = ", ".join(f"'{p}schema'" for p in found)
        raise InputError(f"the row holds {len(found)} labelled records (columns {columns}); keep "
                         "one: label the original input again, or drop the other record's "
                         "columns", field=f"{found[1]}schema")
    return found[0] if found else None


def from_row(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """The record held in an output row (JSONL or parquet form), unprefixed; None when the row
    holds no record.

    Raises:
        InputError: the record has another schema version (the message says how to upgrade).
    """
    prefix = record_prefix(row)
    if prefix is None:
        return None
    schema = row[prefix + "schema"]
    if schema != RECORD_SCHEMA:
        raise InputError(f"record schema '{schema}' is not the one this version reads "
                         f"('{RECORD_SCHEMA}'); read it with the judge version that wrote it "
                         "(provenance.package_version), or judge the input again",
                         field=prefix + "schema")
    rec = {k: row.get(prefix + k) for k in RECORD_FIELDS}
    for key in _ID_MAPS:
        value = rec[key]
        if isinstance(value, list):
            rec[key] = {str(e["id"]): e["score"] for e in value}
    if isinstance(rec["provenance"], str):
        rec["provenance"] = json.loads(rec["provenance"])
    return rec


def legacy_message(kind: str) -> str:
    """The refusal for a file written before records carried ``schema``."""
    return (f"this {kind} was written before labelled records had a 'schema' field and cannot "
            "be read safely; run the command that wrote it again to get records in the "
            f"current shape ({RECORD_SCHEMA})")
