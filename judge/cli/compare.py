"""``judge compare``: which of two responses is better, judged in both presentation orders."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any

from judge.cli.argtypes import POSITIVE
from judge.cli.common import add_judge_args, build_judge, print_summary
from judge.cli.paths import check_input, check_writable
from judge.cli.progress import progress
from judge.cli.rank import invalid_row
from judge.cli.verdicts import short_record, text_lines
from judge.errors import ConfigError, InputError
from judge.items import Item, coerce_item
from judge.jsonl import JsonlWriter, read_jsonl
from judge.record import labelled_row
from judge.types import INVALID_INPUT, USABLE_STATUSES


def register(sub: Any) -> None:
    """Add the subcommand."""
    p = sub.add_parser(
        "compare", help="pairwise: which of two responses is better (both orders)",
        description="Judge two responses in both presentation orders. When the orders disagree "
                    "the verdict is a tie flagged position_inconsistent. Give --prompt and two "
                    "--response options, or --input FILE with rows of exactly two responses "
                    "(one output row per input row, like `judge rank`).")
    p.add_argument("--prompt", help="the user's prompt")
    p.add_argument("--response", action="append", default=[],
                   help="a response; give exactly two")
    p.add_argument("--input", "-i", help="compare every row of a JSONL file instead")
    p.add_argument("--output", "-o", default="-",
                   help="with --input: output JSONL (default: stdout)")
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    p.add_argument("--batch-size", type=POSITIVE, default=64,
                   help="with --input: rows sent to the backend at once (default 64)")
    add_judge_args(p, principle_required=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Compare the two given responses, or every row of --input."""
    for option, given in (("--permutations", args.permutations not in (None, 1)),
                          ("--no-shuffle", args.no_shuffle), ("--pointwise", args.pointwise)):
        if given:
            raise ConfigError(f"{option} does not apply to compare: it always judges the two "
                              "orders (a, b) and (b, a)")
    if args.input:
        if args.prompt or args.response:
            raise ConfigError("give either --input FILE or --prompt with two --response, "
                              "not both")
        return _run_file(args)
    if args.output != "-":
        raise ConfigError("--output applies only with --input FILE")
    if not args.prompt or len(args.response) != 2:
        raise ConfigError(f"give --prompt and exactly two --response options (got "
                          f"{len(args.response)} --response), or --input FILE")
    judge = build_judge(args)
    try:
        if judge.principle is None:
            raise ConfigError("no principle: pass --principle (a library id or a sentence)")
        j = judge.compare([{"prompt": args.prompt, "responses": args.response}])[0]
    finally:
        judge.close()
    if args.json:
        print(json.dumps(short_record(j, judge.backend), indent=2, ensure_ascii=False))
    else:
        responses = {str(n): text for n, text in enumerate(args.response)}
        print("\n".join(text_lines(j, responses, judge.backend)))
    return 0 if j.parsed else 3


def _coerce_pair(row: Any, path: str, line: int) -> Item:
    if isinstance(row, InputError):
        raise row
    item = coerce_item(row, path=path, line=line)
    if len(item.responses) != 2:
        raise InputError(f"compare takes exactly two responses, got {len(item.responses)} "
                         "(use `judge rank` for lists)", path=path, line=line, field="responses")
    return item


def _run_file(args: argparse.Namespace) -> int:
    """Every input row comes out, in order, as a labelled record (the shape `judge rank`
    writes): a verdict, or status invalid_input with the reason."""
    rows = check_input(args.input, "compare")
    check_writable(args.output, "--output")
    judge = build_judge(args)
    counts: Counter[str] = Counter()
    total = 0
    pending: list[tuple[dict[str, Any] | InputError, Item | InputError]] = []
    bar = progress(rows, unit="row", desc="compare", quiet=args.quiet)
    try:
        with JsonlWriter(args.output) as out:
            def flush() -> None:
                items = [item for _, item in pending if isinstance(item, Item)]
                verdicts = iter(judge.compare(items))
                for row, item in pending:
                    if isinstance(item, InputError):
                        counts[INVALID_INPUT] += 1
                        out.write(invalid_row(row, item))
                        continue
                    j = next(verdicts)
                    counts[j.status] += 1
                    assert isinstance(row, dict)
                    out.write(labelled_row(row, item, j, judge.principle_for(item)))
                bar.update(len(pending))
                pending.clear()

            for lineno, row in read_jsonl(args.input):
                total += 1
                try:
                    item = _coerce_pair(row, args.input, lineno)
                    try:
                        judge.principle_for(item)
                    except ConfigError as exc:  # unknown principle, or none and no default
                        raise InputError(str(exc), path=args.input, line=lineno,
                                         field="principle") from None
                except InputError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    pending.append((row, exc))
                else:
                    pending.append((row, item))
                if len(pending) >= args.batch_size:
                    flush()
            flush()
    finally:
        bar.close()
        judge.close()
    print_summary(counts, counts[INVALID_INPUT], total)
    return 3 if any(n for s, n in counts.items() if s not in USABLE_STATUSES) else 0
