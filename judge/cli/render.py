"""``judge render``: print the exact messages a backend would receive (dry run)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from judge.backends.scripted import ScriptedBackend
from judge.cli.argtypes import POSITIVE
from judge.core import Judge
from judge.errors import InputError
from judge.items import coerce_item
from judge.jsonl import read_jsonl


def register(sub: Any) -> None:
    """Add the subcommand."""
    p = sub.add_parser("render", help="print the messages a judge would receive")
    p.add_argument("--principle", help="library id or free text")
    p.add_argument("--prompt", help="the user's prompt")
    p.add_argument("--response", action="append", default=[],
                   help="a candidate response; repeat for several")
    p.add_argument("--input", "-i", help="render every row of a JSONL file instead")
    p.add_argument("--seed", type=int, default=0, help="run seed for the presentation order")
    p.add_argument("--permutations", type=POSITIVE, default=1,
                   help="render K presentation orders per item (default 1)")
    p.add_argument("--no-shuffle", action="store_true",
                   help="show responses in the given order instead of a seeded shuffle")
    p.add_argument("--template", help="template name overriding the default for the mode")
    p.add_argument("--templates-dir", help="folder of templates overriding the shipped ones")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Render one item (from options) or every row of --input; one JSON line per item."""
    judge = Judge(ScriptedBackend([], name="render"), principle=args.principle, seed=args.seed,
                  shuffle=not args.no_shuffle, permutations=args.permutations,
                  template=args.template, templates_dir=args.templates_dir)
    if args.input:
        rows = read_jsonl(args.input)
    else:
        if not args.prompt or not args.response:
            raise InputError("give --prompt and at least one --response, or --input FILE")
        rows = iter([(0, {"prompt": args.prompt, "responses": args.response})])
    bad = 0
    for lineno, row in rows:
        try:
            if isinstance(row, InputError):
                raise row
            item = coerce_item(row, path=args.input, line=lineno or None)
            for messages in judge.render(item):
                print(json.dumps({"messages": [m.model_dump() for m in messages]},
                                 ensure_ascii=False, indent=None if args.input else 2))
        except InputError as exc:
            bad += 1
            print(f"error: {exc}", file=sys.stderr)
    return 3 if bad else 0
