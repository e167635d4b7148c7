"""Options shared by the commands that run a judge, and the code that turns them into a Judge."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from typing import Any

from judge.backends.base import ScoringBackend
from judge.backends.registry import backend_entry
from judge.cli.argtypes import NON_NEGATIVE, POSITIVE, float_at_least
from judge.core import Judge
from judge.engine.spec import JudgeSpec
from judge.errors import ConfigError
from judge.types import INVALID_INPUT, ROW_STATUSES, Judgment, Sampling

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
    g.add_argument("--permutations", type=POSITIVE, metavar="K",
                   help="judge each item under K orders and aggregate (default 1)")
    g.add_argument("--no-shuffle", action="store_true",
                   help="show responses in the given order instead of a seeded shuffle")
    g.add_argument("--structured", action="store_true",
                   help="constrain verdicts to the template's JSON schema")
    g.add_argument("--pointwise", action="store_true",
                   help="judge each response of a list on its own (one request per response) "
                        "and rank by those scores, ties broken by logprob-weighted scores with "
                        "--top-logprobs; default: the whole list in one listwise request")
    g.add_argument("--template", help="template name overriding the default for the mode")
    g.add_argument("--templates-dir", help="folder of templates overriding the shipped ones")
    g.add_argument("--temperature", type=float_at_least(0.0),
                   help="sampling temperature of a generative judge (default 0: greedy)")
    g.add_argument("--max-tokens", type=POSITIVE,
                   help="most tokens a generative judge may write per verdict (default 1024)")
    g.add_argument("--top-logprobs", type=NON_NEGATIVE,
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


#: Options for generative judges only: (flag, attribute); a scoring backend refuses them.
GENERATIVE_ONLY = (("--permutations", "permutations"), ("--no-shuffle", "no_shuffle"),
                   ("--structured", "structured"), ("--pointwise", "pointwise"),
                   ("--template", "template"),
                   ("--templates-dir", "templates_dir"), ("--temperature", "temperature"),
                   ("--max-tokens", "max_tokens"), ("--top-logprobs", "top_logprobs"))


def refuse_inapplicable(args: argparse.Namespace) -> None:
    """Refuse generative-only options given with a scoring backend (the reward head), before
    anything loads.

    Raises:
        ConfigError: naming the options and the backend.
    """
    given = [flag for flag, attr in GENERATIVE_ONLY
             if getattr(args, attr, None) not in (None, False)]
    if given and _scoring(args.backend):
        name = args.backend if isinstance(args.backend, str) else args.backend.name
        raise ConfigError(f"{', '.join(given)}: not applicable to --backend {name}, a reward head "
                          "that scores each response directly (no prompt template, decoding or "
                          "presentation order); drop the option(s) or use a generative backend")


def build_judge(args: argparse.Namespace) -> Judge:
    """A Judge from parsed options.

    Raises:
        ConfigError: an option does not apply to the backend, or a backend option is invalid.
    """
    return judge_spec(args).build()


def judge_spec(args: argparse.Namespace) -> JudgeSpec:
    """The picklable recipe :func:`build_judge` builds from (what Ray workers build from).

    Raises:
        ConfigError: an option does not apply to the backend, or a backend option is invalid.
    """
    refuse_inapplicable(args)
    sampling = None
    if not _scoring(args.backend):
        sampling = Sampling(
            temperature=_or(args.temperature, 0.0), max_tokens=_or(args.max_tokens, 1024),
            seed=args.seed, top_logprobs=_or(args.top_logprobs, 0))
    return JudgeSpec(args.backend, {
        "principle": args.principle, "seed": args.seed, "sampling": sampling,
        "shuffle": not args.no_shuffle, "permutations": _or(args.permutations, 1),
        "structured": args.structured, "template": args.template,
        "templates_dir": args.templates_dir, "pointwise": args.pointwise,
        "backend_options": parse_options(args.backend_option)})


def _scoring(backend: Any) -> bool:
    if isinstance(backend, str):
        return backend_entry(backend).scoring
    return isinstance(backend, ScoringBackend)


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def judgment_fields(j: Judgment) -> dict[str, Any]:
    """The fields a verdict adds to an output row."""
    data = j.model_dump(mode="json", exclude={"ids", "item_id"})
    return data


def print_summary(counts: Counter[str], bad_rows: int, total: int, *, what: str = "rows") -> None:
    """One summary line on stderr."""
    counts = Counter({**counts, INVALID_INPUT: bad_rows}) if bad_rows else counts
    parts = [f"{k}={counts[k]}" for k in ROW_STATUSES if counts.get(k)]
    print(f"{total} {what}: " + (", ".join(parts) or "nothing to do"), file=sys.stderr)
