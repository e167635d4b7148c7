"""``judge rank``: rank the responses of each JSONL row under a principle."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from typing import Any

from judge.cli.argtypes import POSITIVE
from judge.cli.common import add_judge_args, build_judge, print_summary
from judge.cli.paths import check_input, check_writable
from judge.cli.progress import progress
from judge.core import Judge
from judge.errors import InputError, PrincipleError
from judge.items import Item, coerce_item
from judge.jsonl import JsonlWriter, read_jsonl
from judge.record import invalid_record, labelled_row
from judge.types import USABLE_STATUSES, Judgment


def register(sub: Any) -> None:
    """Add the subcommand."""
    p = sub.add_parser("rank", help="rank responses in a JSONL file",
                       description="Each input row has 'prompt', 'responses' (list or id -> text) "
                                   "and optionally 'principle' and 'id'. Every input row comes "
                                   "out, in order: the input plus a labelled record (schema, "
                                   "item, status, scores, ranking, reasoning, raw, provenance; "
                                   "see judge.record); a row that cannot be judged has status "
                                   "invalid_input and the reason in 'problems'.")
    p.add_argument("--input", "-i", default="-", help="input JSONL (default: stdin)")
    p.add_argument("--output", "-o", default="-",
                   help="output JSONL (default: stdout); an existing file is replaced when the "
                        "run finishes, and kept as it was if the run fails")
    p.add_argument("--append", action="store_true",
                   help="append to the output file instead of replacing it")
    p.add_argument("--limit", type=POSITIVE, metavar="N",
                   help="rank only the first N input rows (blank lines not counted)")
    p.add_argument("--batch-size", type=POSITIVE, default=64,
                   help="rows sent to the backend at once (default 64)")
    add_judge_args(p)
    p.set_defaults(func=run)


def invalid_row(row: dict[str, Any] | InputError, error: InputError) -> dict[str, Any]:
    """The output row of an input row that cannot be judged: the input, the status, the reason."""
    base = row if isinstance(row, dict) else {}
    return {**base, **invalid_record(str(error))}


def run(args: argparse.Namespace) -> int:
    """Rank every valid row; write every row, in input order, with a status.

    Rows are written as soon as they and every row before them are judged (the HTTP backend
    reports each verdict as it completes), not only when a batch of ``--batch-size`` ends.
    """
    rows = check_input(args.input, "rank")
    check_writable(args.output, "--output")
    if args.limit is not None and rows is not None:
        rows = min(rows, args.limit)
    judge = build_judge(args)
    bar = progress(rows, unit="row", desc="rank", quiet=args.quiet)
    counts: Counter[str] = Counter()
    total = 0
    # rows waiting for their batch: (input row, item to judge, or the reason it cannot be)
    pending: list[tuple[dict[str, Any] | InputError, Item | InputError]] = []
    try:
        with JsonlWriter(args.output, append=args.append) as out:
            def flush() -> None:
                slots = [n for n, (_, it) in enumerate(pending) if isinstance(it, Item)]
                ready: dict[int, dict[str, Any]] = {}
                written = 0

                def write_ready() -> None:   # the judged prefix of the batch, in order
                    nonlocal written
                    while written < len(pending):
                        row, it = pending[written]
                        if isinstance(it, InputError):
                            counts["invalid_input"] += 1
                            out.write(invalid_row(row, it))
                        elif written in ready:
                            out.write(ready.pop(written))
                        else:
                            return
                        written += 1
                        bar.update(1)

                def judged(i: int, j: Judgment) -> None:
                    row, it = pending[slots[i]]
                    assert isinstance(row, dict) and isinstance(it, Item)
                    counts[j.status] += 1
                    ready[slots[i]] = labelled_row(row, it, j, judge.principle_for(it))
                    write_ready()

                write_ready()
                judge.rank([it for _, it in pending if isinstance(it, Item)], on_judgment=judged)
                write_ready()
                pending.clear()

            for lineno, row in read_jsonl(args.input):
                if args.limit is not None and total >= args.limit:
                    break
                total += 1
                try:
                    if isinstance(row, InputError):
                        raise row
                    item = coerce_item(row, path=args.input, line=lineno)
                    check_principle(item, judge, args.input, lineno)
                    pending.append((row, item))
                except InputError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    pending.append((row, exc))
                if sum(isinstance(it, Item) for _, it in pending) >= args.batch_size:
                    flush()
            flush()
    finally:
        bar.close()
        judge.close()   # on Ctrl-C too: queued requests are dropped, a launched server stopped
    print_summary(counts, counts["invalid_input"], total)
    return 3 if any(n for s, n in counts.items() if s not in USABLE_STATUSES) else 0


def check_principle(item: Item, judge: Judge, path: str, lineno: int) -> None:
    """Fail a row early (as an InputError) when its principle is missing or unknown."""
    if item.principle is None:
        if judge.principle is None:
            raise InputError("missing, and no --principle default was given", path=path,
                             line=lineno, field="principle")
        return
    try:
        judge.principle_for(item)
    except PrincipleError as exc:
        raise InputError(str(exc), path=path, line=lineno, field="principle") from None
