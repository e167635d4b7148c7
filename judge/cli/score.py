"""``judge score``: score one response (or rank several) given on the command line."""

from __future__ import annotations

import argparse
import json
from typing import Any

from judge.cli.common import add_judge_args, build_judge, judgment_fields


def register(sub: Any) -> None:
    """Add the subcommand."""
    p = sub.add_parser("score", help="score one response against a principle",
                       description="Score --response against --principle; with several "
                                   "--response options the responses are ranked.")
    p.add_argument("--prompt", required=True)
    p.add_argument("--response", action="append", required=True,
                   help="a response; repeat to rank several")
    p.add_argument("--full", action="store_true", help="print the whole verdict with provenance")
    add_judge_args(p, principle_required=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the verdict as JSON."""
    judge = build_judge(args)
    item = {"prompt": args.prompt, "responses": args.response}
    j = judge.rank([item])[0]
    judge.close()
    if args.full:
        print(json.dumps(judgment_fields(j), indent=2, ensure_ascii=False))
    else:
        short = {"principle": j.provenance.principle.id, "backend": j.provenance.backend,
                 "status": j.status, "scores": j.scores, "ranking": j.ranking}
        if j.problems:
            short["problems"] = j.problems
        print(json.dumps(short, indent=2, ensure_ascii=False))
    return 0 if j.parsed else 3
