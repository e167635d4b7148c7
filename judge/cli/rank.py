"""``judge rank``: rank the responses of each JSONL row under a principle."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from typing import Any

from judge.cli.argtypes import POSITIVE
from judge.cli.common import add_judge_args, build_judge, judgment_fields, print_summary
from judge.cli.paths import check_input, check_writable
from judge.cli.progress import progress
from judge.core import Judge
from judge.errors import InputError, PrincipleError
from judge.items import RankItem, coerce_item
from judge.jsonl import JsonlAppender, read_jsonl


def register(sub: Any) -> None:
    """Add the subcommand."""
    p = sub.add_parser("rank", help="rank responses in a JSONL file",
                       description="Each input row has 'prompt', 'responses' (list or id -> text) "
                                   "and optionally 'principle' and 'id'. Output rows keep the "
                                   "input and add scores, ranking, status, reasoning, raw and "
                                   "provenance.")
    p.add_argument("--input", "-i", default="-", help="input JSONL (default: stdin)")
    p.add_argument("--output", "-o", default="-", help="output JSONL (default: stdout)")
    p.add_argument("--batch-size", type=POSITIVE, default=64,
                   help="rows sent to the backend at once (default 64)")
    add_judge_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Rank every valid row; report bad rows by line and keep going."""
    rows = check_input(args.input, "rank")
    check_writable(args.output, "--output")
    judge = build_judge(args)
    bar = progress(rows, unit="row", desc="rank", quiet=args.quiet)
    counts: Counter[str] = Counter()
    bad = total = 0
    batch: list[tuple[dict[str, Any], RankItem]] = []
    with JsonlAppender(args.output, fsync=False) as out:
        def flush() -> None:
            judgments = judge.rank([item for _, item in batch])
            for (row, _), j in zip(batch, judgments, strict=True):
                counts[j.status] += 1
                out.write({**row, **judgment_fields(j)})
            bar.update(len(batch))
            batch.clear()

        for lineno, row in read_jsonl(args.input):
            total += 1
            try:
                if isinstance(row, InputError):
                    raise row
                item = coerce_item(row, path=args.input, line=lineno)
                check_principle(item, judge, args.input, lineno)
            except InputError as exc:
                bad += 1
                print(f"error: {exc}", file=sys.stderr)
                bar.update(1)
                continue
            batch.append((row, item))
            if len(batch) >= args.batch_size:
                flush()
        if batch:
            flush()
    bar.close()
    judge.close()
    print_summary(counts, bad, total)
    return 3 if bad or counts["unparsed"] or counts["backend_error"] else 0


def check_principle(item: RankItem, judge: Judge, path: str, lineno: int) -> None:
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
