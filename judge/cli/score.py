"""``judge score``: score one response (or rank several) given on the command line."""

from __future__ import annotations

import argparse
import json
from typing import Any

from judge.cli.common import add_judge_args, build_judge, judgment_fields
from judge.cli.verdicts import score_meaning, short_record, text_lines


def register(sub: Any) -> None:
    """Add the subcommand."""
    p = sub.add_parser("score", help="score one response against a principle",
                       description="Score --response against --principle; with several "
                                   "--response options the responses are ranked. The output "
                                   "says what the number is: a reward head's unbounded "
                                   "utility, or a generative judge's score on its scale.")
    p.add_argument("--prompt", required=True, help="the user's prompt")
    p.add_argument("--response", action="append", required=True,
                   help="a response; repeat to rank several")
    p.add_argument("--json", action="store_true",
                   help="print the verdict as JSON (score, scale and what the score means)")
    p.add_argument("--full", action="store_true",
                   help="print the whole verdict as JSON, with provenance")
    add_judge_args(p, principle_required=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the verdict as text, or as JSON with --json / --full."""
    judge = build_judge(args)
    responses = {str(n): text for n, text in enumerate(args.response)}
    item = {"prompt": args.prompt, "responses": args.response}
    try:
        j = judge.rank([item])[0]
    finally:
        judge.close()
    if args.full:
        full = {**judgment_fields(j), "score_meaning": score_meaning(j, judge.backend)}
        print(json.dumps(full, indent=2, ensure_ascii=False))
    elif args.json:
        print(json.dumps(short_record(j, judge.backend), indent=2, ensure_ascii=False))
    else:
        print("\n".join(text_lines(j, responses, judge.backend)))
    return 0 if j.parsed else 3
