"""The ``judge`` command line: parse arguments, call the library, format results.

Exit codes: 0 success, 1 an internal error (a bug: one line, the traceback with ``-v``), 2 usage
or input error (one line on stderr), 3 the run finished but some rows failed (counted in the
summary), 130 interrupted. The global flags (``-v``, ``-q``) are
accepted before or after the subcommand.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
import traceback

from judge._version import __version__
from judge.errors import JudgeError

#: Subcommand -> its one-line help. Each is a module ``judge.cli.<name>`` exposing
#: ``register(subparsers)``, imported only when that subcommand runs (or a full parser is built).
COMMANDS: dict[str, str] = {
    "rank": "rank responses in a JSONL file",
    "score": "score one response against a principle",
    "compare": "pairwise: which of two responses is better (both orders)",
    "render": "print the messages a judge would receive",
    "principles": "browse the principle library",
    "bench": "evaluate a judge on ranking suites (RABench-style)",
    "distill": "distil judge verdicts into a cheap reward head",
    "serve": "serve rewards over HTTP (score, OpenRLHF, health)",
    "label": "label a dataset (JSONL, parquet, HF dataset) with scores and rankings",
}


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


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser.

    Args:
        argv: the arguments about to be parsed: only the subcommand they name is imported and
            registered in full, the others get a one-line entry. None builds every subcommand.
    """
    parser = argparse.ArgumentParser(
        prog="judge", description="Principle-conditioned judging and reward modeling.")
    parser.add_argument("--version", action="version", version=f"judge {__version__}")
    _add_global_flags(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = None if argv is None else next((a for a in argv if not a.startswith("-")), "")
    for name, help_line in COMMANDS.items():
        module_name = f"judge.cli.{name}"
        if importlib.util.find_spec(module_name) is None:
            continue
        if chosen is None or name == chosen:
            importlib.import_module(module_name).register(sub)
        else:
            sub.add_parser(name, help=help_line)
    for child in leaf_parsers(parser):
        _add_global_flags(child, top=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
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
