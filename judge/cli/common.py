"""Options shared by the commands that run a judge, and the code that turns them into a Judge."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from typing import Any

from judge.cli.argtypes import NON_NEGATIVE, POSITIVE, float_at_least
from judge.core import Judge
from judge.errors import ConfigError
from judge.types import Judgment, Sampling

DEFAULT_BACKEND = "head"


def add_judge_args(parser: argparse.ArgumentParser, *, principle_required: bool = False) -> None:
    """Add --backend, --principle, sampling and ordering options."""
    g = parser.add_argument_group("judge")
    g.add_argument("--backend", default=DEFAULT_BACKEND, metavar="SPEC",
                   help="scripted:FILE | transformers:PATH | vllm:PATH | openai:URL#MODEL | "
                        f"head | head:DIR (default: {DEFAULT_BACKEND}, the shipped reward head)")
    g.add_argument("-B", "--backend-option", action="append", default=[], metavar="KEY=VALUE",
                   help="backend option, repeatable (e.g. -B dtype=bfloat16 -B batch_size=8)")
    g.add_argument("--principle", required=principle_required, metavar="P",
                   help="library id or a free-text sentence (default for rows without one)")
    g.add_argument("--seed", type=int, default=0, help="run seed for orders and sampling")
    g.add_argument("--permutations", type=POSITIVE, default=1, metavar="K",
                   help="judge each item under K orders and aggregate (default 1)")
    g.add_argument("--no-shuffle", action="store_true",
                   help="show responses in the given order instead of a seeded shuffle")
    g.add_argument("--structured", action="store_true",
                   help="constrain verdicts to the template's JSON schema")
    g.add_argument("--template", help="template name overriding the default for the mode")
    g.add_argument("--templates-dir", help="folder of templates overriding the shipped ones")
    g.add_argument("--temperature", type=float_at_least(0.0), default=0.0,
                   help="sampling temperature of a generative judge (default 0: greedy)")
    g.add_argument("--max-tokens", type=POSITIVE, default=1024,
                   help="most tokens a generative judge may write per verdict (default 1024)")
    g.add_argument("--top-logprobs", type=NON_NEGATIVE, default=0,
                   help="ask for N alternatives per token to compute logprob-weighted scores")


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """Turn ``KEY=VALUE`` strings into a dict with ints, floats and booleans decoded."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"-B {pair}: a backend option must look like KEY=VALUE "
                              "(e.g. -B batch_size=8)")
        out[key.replace("-", "_")] = _decode(value)
    return out


def _decode(value: str) -> Any:
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def build_judge(args: argparse.Namespace) -> Judge:
    """A Judge from parsed options."""
    sampling = Sampling(temperature=args.temperature, max_tokens=args.max_tokens, seed=args.seed,
                        top_logprobs=args.top_logprobs)
    return Judge(args.backend, principle=args.principle, seed=args.seed, sampling=sampling,
                 shuffle=not args.no_shuffle, permutations=args.permutations,
                 structured=args.structured, template=args.template,
                 templates_dir=args.templates_dir,
                 backend_options=parse_options(args.backend_option))


def judgment_fields(j: Judgment) -> dict[str, Any]:
    """The fields a verdict adds to an output row."""
    data = j.model_dump(mode="json", exclude={"ids", "item_id"})
    return data


def print_summary(counts: Counter[str], bad_rows: int, total: int, *, what: str = "rows") -> None:
    """One summary line on stderr."""
    parts = [f"{k}={counts[k]}" for k in ("ok", "repaired", "unparsed", "backend_error")
             if counts.get(k)]
    if bad_rows:
        parts.append(f"invalid_input={bad_rows}")
    print(f"{total} {what}: " + (", ".join(parts) or "nothing to do"), file=sys.stderr)
