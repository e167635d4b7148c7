"""The ``judge`` command line: parse arguments, call the library, format results.

Exit codes: 0 success, 1 an internal error (a bug: one line, the traceback with ``-v``), 2 usage
or input error (one line on stderr), 3 the run finished but some rows failed (counted in the
summary), 130 interrupted. The global flags (``-v``, ``-q``) are
accepted before or after the subcommand.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback

from judge._version import __version__
from judge.errors import JudgeError

#: Subcommand modules, each exposing ``register(subparsers)``.
COMMANDS = ("rank", "score", "compare", "render", "principles", "bench", "distill", "serve",
            "label")


def _add_global_flags(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``-v`` and ``-q``; below the top level their default is SUPPRESS so that a flag given
    before the subcommand is not reset by the subcommand's own default."""
    default: object = False if top else argparse.SUPPRESS
    g = parser.add_argument_group("global options") if not top else parser
    g.add_argument("-v", "--verbose", action="store_true", default=default,
                   help="log progress details")
    g.add_argument("-q", "--quiet", action="store_true", default=default,
                   help="no progress bars or progress lines (errors and summaries still print)")


def leaf_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every parser below ``parser`` (subcommands, sub-subcommands), depth first."""
    out: list[argparse.ArgumentParser] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                out.append(child)
                out.extend(leaf_parsers(child))
    return out


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (subcommands whose modules are present)."""
    parser = argparse.ArgumentParser(
        prog="judge", description="Principle-conditioned judging and reward modeling.")
    parser.add_argument("--version", action="version", version=f"judge {__version__}")
    _add_global_flags(parser, top=True)
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
    for child in leaf_parsers(parser):
        _add_global_flags(child, top=False)
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
    except BrokenPipeError:  # `judge rank ... | head`: the reader has gone, nothing to report
        return 0
    except OSError as exc:  # a file the checks could not foresee (disk full, removed folder)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the last stop before a traceback reaches a user
        if args.verbose:
            traceback.print_exc()
        print(f"error: internal error ({type(exc).__name__}: {exc}); please report it with the "
              "command" + ("" if args.verbose else ", rerun with -v for the traceback"),
              file=sys.stderr)
        return 1
