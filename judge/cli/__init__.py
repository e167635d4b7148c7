"""The ``judge`` command line: parse arguments, call the library, format results.

Exit codes: 0 success, 2 usage or input error (one line on stderr), 3 the run finished but some
rows failed (counted in the summary), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from judge._version import __version__
from judge.errors import JudgeError

#: Subcommand modules, each exposing ``register(subparsers)``.
COMMANDS = ("rank", "score", "render", "principles", "bench", "distill", "serve", "label")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (subcommands whose modules are present)."""
    parser = argparse.ArgumentParser(
        prog="judge", description="Principle-conditioned judging and reward modeling.")
    parser.add_argument("--version", action="version", version=f"judge {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module_name = f"judge.cli.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except JudgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
