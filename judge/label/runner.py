"""Label a dataset with a judge: resumable, every row exactly once, in input order.

The run reads its input three times:

1. **Plan.** Each row is validated and given a key: a hash of the judge configuration, the
   principle the row is judged under, its prompt and responses, and which duplicate of that
   content it is (the n-th identical row gets ``n`` in its key, so duplicates are each labeled
   and a row keeps its key when other rows are added or removed). Columns that the judge does not
   see (ids, metadata) are not part of the key.
2. **Label.** Rows whose key has no finished record in the journal are judged in batches; each
   batch's records are appended to the journal and synced before the next batch starts. Records
   with status ``backend_error`` are always judged again on a restart; ``unparsed`` and
   ``inconsistent`` ones only with ``retry_failed`` (greedy decoding would reproduce them).
3. **Write.** The output is written to a temporary file in input order, one row per input row,
   and renamed into place. Rows that cannot be judged (bad JSON, missing fields, unknown
   principle) are kept with status ``invalid_input`` and the reason in ``problems``.

Killing the process at any point and starting it again with the same arguments ends with the
same output as an uninterrupted run. The journal is kept after success, so a re-run with an
unchanged configuration (for instance to add ``--pairs`` or change ``--normalize``) judges
nothing again; delete it to start from scratch. With ``--engine ray`` the store is a shard folder
(``OUTPUT.shards``) instead of the journal file; a run begun on one engine and resumed on the
other first copies the other store's finished records (default locations only), so nothing is
judged twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from judge.core import Judge
from judge.engine.base import Engine, Row
from judge.engine.local import LocalEngine
from judge.engine.shards import ShardStore, default_shards_path
from judge.errors import ConfigError, InputError, JudgeError
from judge.hashing import json_hash
from judge.items import Item, normalize_responses
from judge.journal import Journal, default_journal_path
from judge.label.io import RowSource, output_format, write_rows
from judge.label.normalize import check_mode, normalize_scores
from judge.label.pairs import PAIR_MODES, make_pairs
from judge.label.record import (
    JOURNAL_FIELDS,
    LABEL_COLUMNS,
    check_journal_record,
    content_key,
    principle_hash,
    row_item,
    verdict_fields,
)
from judge.label.stores import adopt_other_engine
from judge.record import (
    RECORD_FIELDS,
    invalid_record,
    item_fields,
    record_prefix,
    to_table_row,
)
from judge.types import USABLE_STATUSES

#: Failed statuses that a re-run would reproduce (greedy decoding): reused unless
#: ``retry_failed``. ``backend_error`` rows are always judged again.
REPEATABLE = frozenset({"unparsed", "inconsistent"})


@dataclass
class LabelOptions:
    """How rows map to judge items and what the run writes.

    Attributes:
        prompt_column: the prompt (text or chat messages).
        responses_column: several responses (a list, or an id -> text object): ranked listwise.
        response_column: one response, used when ``responses_column`` is absent: scored pointwise.
        principle_column: a per-row principle (library id or text); None to ignore any column.
        id_column: an id copied into the judgment (not part of the key).
        batch_size: rows per backend call (and per journal sync).
        normalize: add a ``rewards`` column (see :mod:`judge.label.normalize`).
        retry_failed: on a restart, judge ``unparsed`` and ``inconsistent`` rows again too.
        prefix: prepended to every added column (to avoid clashes with input columns).
        split: the split of a multi-split dataset.
        output_format: ``jsonl`` / ``parquet`` / ``dataset``; None picks by extension.
        journal: the journal file; None puts ``OUTPUT.journal.jsonl`` next to the output.
        pairs: also write chosen/rejected pairs here (.jsonl, .parquet, or a dataset folder).
        pairs_format: ``jsonl`` / ``parquet`` / ``dataset`` for ``pairs``; None picks by
            extension.
        pair_mode: ``all`` or ``best-worst``.
        min_margin: keep pairs whose score difference is greater than this.
    """

    prompt_column: str = "prompt"
    responses_column: str = "responses"
    response_column: str = "response"
    principle_column: str | None = "principle"
    id_column: str | None = "id"
    batch_size: int = 64
    normalize: str = "none"
    retry_failed: bool = False
    prefix: str = ""
    split: str | None = None
    output_format: str | None = None
    journal: str | Path | None = None
    pairs: str | Path | None = None
    pairs_format: str | None = None
    pair_mode: str = "all"
    min_margin: float = 0.0


@dataclass
class LabelSummary:
    """What a run did.

    Attributes:
        total: input rows (every one is in the output).
        labeled: rows judged by this run.
        reused: rows whose finished label came from the journal.
        counts: rows per status (:data:`judge.types.ROW_STATUSES`).
        stale: journal records from other configurations (ignored).
        pairs: pairs written, when pairs were asked for.
    """

    output: Path
    journal: Path
    total: int = 0
    labeled: int = 0
    reused: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    stale: int = 0
    pairs: int | None = None
    invalid: list[str] = field(default_factory=list)
    """Why each invalid input row was refused (file:line: field: reason), in input order."""

    @property
    def failed(self) -> int:
        """Rows without usable scores."""
        return self.total - sum(self.counts[s] for s in USABLE_STATUSES)


@dataclass
class _Plan:
    key: str | None = None
    error: str | None = None


StartHook = Callable[[int, int, int], None]
"""Called once with (total rows, rows to judge now, rows reused)."""
AdvanceHook = Callable[[int], None]
"""Called with the number of rows just finished."""


def label_dataset(judge: Judge, source: str | RowSource, output: str | Path,
                  options: LabelOptions | None = None, *, on_start: StartHook | None = None,
                  on_advance: AdvanceHook | None = None,
                  engine: Engine | None = None) -> LabelSummary:
    """Label every row of ``source`` and write ``output`` (see the module docstring).

    Args:
        judge: any judge (text backend or reward head).
        source: an input spec (see :mod:`judge.label.io`) or an opened :class:`RowSource`.
        output: the output file, or directory for ``output_format="dataset"``.
        options: columns, batching, journal, pairs and normalisation.
        on_start: progress hook, called once before judging.
        on_advance: progress hook, called after each batch.
        engine: where the rows are judged (:mod:`judge.engine`); None judges them here with
            ``judge``. A non-local engine keeps finished rows in a shard store
            (``OUTPUT.shards``, :mod:`judge.engine.shards`; ``journal`` names its directory)
            instead of the journal file; the output is the same.

    Returns:
        Counts per status; ``summary.failed`` rows lack usable scores.

    Raises:
        ConfigError: bad options, or an input column clashes with an added column.
        BackendError: the backend failed as a whole; finished rows stay in the journal.
    """
    opts = options or LabelOptions()
    check_mode(opts.normalize)
    if opts.pair_mode not in PAIR_MODES:
        raise ConfigError(f"unknown pair mode '{opts.pair_mode}': {', '.join(PAIR_MODES)}")
    if opts.batch_size < 1:
        raise ConfigError(f"batch size must be >= 1, got {opts.batch_size}")
    src = source if isinstance(source, RowSource) else RowSource(source, split=opts.split)
    if src.kind != "hf" and Path(src.spec).resolve() == Path(output).resolve():
        raise ConfigError(f"the output '{output}' is the input file: write the labels elsewhere")
    fmt = output_format(str(output), opts.output_format)
    pairs_fmt = (output_format(str(opts.pairs), opts.pairs_format)
                 if opts.pairs is not None else None)
    config = judge.fingerprint()
    journal: Journal | ShardStore
    if engine is None or engine.name == "local":
        journal = Journal(opts.journal or default_journal_path(output),
                          required=JOURNAL_FIELDS, check=check_journal_record)
    else:
        journal = ShardStore(opts.journal or default_shards_path(output),
                             required=JOURNAL_FIELDS, check=check_journal_record,
                             meta={"config": config, "input": src.spec, "output": str(output)})
    summary = LabelSummary(output=Path(output), journal=journal.path)
    try:
        plans = _plan(judge, src, opts, config)
        summary.invalid = [p.error for p in plans if p.error]
        table = fmt != "jsonl"
        summary.total = len(plans)
        reusable = USABLE_STATUSES if opts.retry_failed else USABLE_STATUSES | REPEATABLE
        finished = journal.scan()
        if opts.journal is None and adopt_other_engine(journal, output, config, reusable,
                                                       finished):
            finished = journal.scan()
        summary.stale = sum(1 for cfg, _ in finished.values() if cfg != config)
        done = {k for k, (cfg, status) in finished.items()
                if cfg == config and status in reusable}
        todo = {n for n, p in enumerate(plans) if p.key is not None and p.key not in done}
        summary.reused = sum(1 for p in plans if p.key is not None) - len(todo)
        if on_start:
            on_start(summary.total, len(todo), summary.reused)
        summary.labeled = _label(engine or LocalEngine(judge), src, opts, plans, todo, journal,
                                 config, on_advance)
        journal.close()
        journal.scan()
        pairs: list[dict[str, Any]] = []
        rows = _output_rows(judge, src, opts, plans, journal, summary, pairs, table)
        write_rows(output, (to_table_row(r, opts.prefix) for r in rows) if table else rows, fmt)
        if opts.pairs is not None and pairs_fmt is not None:
            summary.pairs = write_rows(opts.pairs, pairs, pairs_fmt)
    finally:
        journal.close()
    return summary


def _where(src: RowSource, where: int) -> str:
    return f"{src.spec}:{where}" if src.kind == "jsonl" else f"{src.spec}: row {where}"


def _item(row: dict[str, Any], opts: LabelOptions) -> Item:
    return row_item(row, prompt_column=opts.prompt_column,
                    responses_column=opts.responses_column,
                    response_column=opts.response_column,
                    principle_column=opts.principle_column, id_column=opts.id_column)


def _plan(judge: Judge, src: RowSource, opts: LabelOptions, config: str) -> list[_Plan]:
    added = {opts.prefix + c for c in LABEL_COLUMNS}
    plans: list[_Plan] = []
    seen: Counter[str] = Counter()
    for where, row in src:
        if isinstance(row, InputError):
            plans.append(_Plan(error=str(row)))
            continue
        clash = added.intersection(row)
        if clash and not _relabel(row, opts):
            raise ConfigError(
                f"{_where(src, where)}: input column(s) {sorted(clash)} would be overwritten by "
                "the label columns; pass a prefix (--prefix judge_) to keep both")
        try:
            item = _item(row, opts)
            phash = principle_hash(judge, item, opts.principle_column)
        except InputError as exc:
            plans.append(_Plan(error=f"{_where(src, where)}: {exc}"))
            continue
        content = json_hash({"p": phash, "q": item.prompt, "r": item.responses})
        plans.append(_Plan(key=content_key(config, phash, item, seen[content])))
        seen[content] += 1
    return plans


def _label(engine: Engine, src: RowSource, opts: LabelOptions, plans: list[_Plan],
           todo: set[int], journal: Journal | ShardStore, config: str,
           on_advance: AdvanceHook | None) -> int:
    if not todo:
        return 0
    labeled = 0

    def finished(records: list[Row]) -> None:
        nonlocal labeled
        other = next((r["config"] for r in records if r["config"] != config), None)
        if other is not None:
            raise ConfigError(f"a worker's judge has configuration {other}, not this run's "
                              f"{config}: give every node the same model files and package "
                              "version")
        journal.append(records)
        labeled += len(records)
        if on_advance:
            on_advance(len(records))

    rows = ({"row": n, "key": plans[n].key, "item": _item(row, opts).model_dump(mode="json")}
            for n, (_, row) in enumerate(src) if n in todo and not isinstance(row, InputError))
    engine.map(judge_rows, rows, batch_size=opts.batch_size, on_batch=finished)
    return labeled


def judge_rows(judge: Judge, rows: list[Row]) -> list[Row]:
    """The batch function of a label run: ``{row, key, item}`` rows -> journal records."""
    judgments = judge.rank([Item.model_validate(r["item"]) for r in rows])
    config = judge.fingerprint()
    return [{"key": r["key"], "config": config, "row": r["row"], **verdict_fields(j)}
            for r, j in zip(rows, judgments, strict=True)]


def _relabel(row: Mapping[str, Any], opts: LabelOptions) -> bool:
    """Whether ``row`` is an output row of a label with this prefix (labeled again: its old
    label columns are replaced)."""
    return record_prefix(row) == opts.prefix


def _input_columns(row: Mapping[str, Any], opts: LabelOptions, table: bool) -> dict[str, Any]:
    """The input columns an output row keeps: an earlier label's columns dropped, and for
    parquet / datasets the responses, whatever their accepted shape, as a list of ``{id, text}``
    (one column type: a struct column would merge every row's ids, with nulls, and rows of
    texts beside rows of objects cannot share a column)."""
    out = dict(row)
    if _relabel(row, opts):
        for column in LABEL_COLUMNS:
            out.pop(opts.prefix + column, None)
    value = out.get(opts.responses_column)
    # every accepted shape (texts, objects, chat messages) becomes one column type in a table
    if table and isinstance(value, (Mapping, list)):
        try:
            texts = normalize_responses(value, field=opts.responses_column)
        except InputError:
            return out  # an invalid row keeps its cell; its status says why
        out[opts.responses_column] = [{"id": k, "text": t} for k, t in texts.items()]
    return out


def _output_rows(judge: Judge, src: RowSource, opts: LabelOptions, plans: list[_Plan],
                 journal: Journal | ShardStore, summary: LabelSummary, pairs: list[dict[str, Any]],
                 table: bool) -> Iterator[dict[str, Any]]:
    pre = opts.prefix
    for n, (_, row) in enumerate(src):
        plan = plans[n]
        base = {} if isinstance(row, InputError) else _input_columns(row, opts, table)
        item: Item | None = None
        if plan.key is None:
            record = invalid_record(plan.error or "invalid row")
        else:
            stored = journal.read(plan.key)
            if stored is None:
                raise JudgeError(f"internal: the label of row {n} is missing from "
                                 f"{journal.path}; run the command again to finish it")
            item = _item(base, opts)
            principle = judge.principle_for(item)
            record = {**stored, "item": item_fields(item, principle)}
        summary.counts[record["status"]] += 1
        out = {**base, **{pre + k: record.get(k) for k in RECORD_FIELDS},
               pre + "label_key": plan.key}
        scores = ([record["scores"][i] for i in item.responses]
                  if item is not None and record["status"] in USABLE_STATUSES
                  and record["scores"] is not None else None)
        if opts.normalize != "none":
            scale = tuple(record["scale"]) if record.get("scale") else None
            out[pre + "rewards"] = (normalize_scores(scores, opts.normalize, scale)
                                    if scores is not None else None)
        if opts.pairs is not None and item is not None and scores is not None and len(scores) > 1:
            pairs.extend(_pairs_of(judge, base, item, scores, n, plan.key, opts))
        yield out


def _pairs_of(judge: Judge, row: dict[str, Any], item: Item, scores: list[float], n: int,
              key: str | None, opts: LabelOptions) -> Iterator[dict[str, Any]]:
    responses = list(item.responses.values())
    principle = judge.principle_for(item)
    for chosen, rejected, margin in make_pairs(scores, mode=opts.pair_mode,
                                               min_margin=opts.min_margin):
        prompt = row.get(opts.prompt_column)  # a preference row's dialogue may hold it
        pair = {"prompt": item.prompt if prompt is None else prompt, "chosen": responses[chosen],
                "rejected": responses[rejected], "margin": margin,
                "chosen_score": scores[chosen], "rejected_score": scores[rejected],
                "principle": principle.text, "principle_id": principle.ref().id,
                "source_row": n, "label_key": key}
        if opts.id_column and opts.id_column in row:
            pair["id"] = row[opts.id_column]
        yield pair
