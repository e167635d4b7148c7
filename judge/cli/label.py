"""``judge label``: reward labels for a whole dataset, resumable after any crash."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from judge.cli.argtypes import POSITIVE
from judge.cli.common import add_judge_args, judge_spec, print_summary
from judge.cli.engine import add_engine_args, build_engine, engine_options
from judge.cli.paths import check_input, check_writable
from judge.errors import ConfigError
from judge.label.normalize import NORMALIZE_MODES
from judge.label.pairs import PAIR_MODES
from judge.label.runner import LabelOptions, label_dataset


def register(sub: Any) -> None:
    """Add the subcommand."""
    p = sub.add_parser(
        "label", help="label a dataset (JSONL, parquet, HF dataset) with scores and rankings",
        description="Rows with several responses are ranked listwise, rows with one are scored "
                    "pointwise. The output keeps every input column and adds a labelled record "
                    "(schema, item, status, scores, ranking, reasoning, provenance; see "
                    "judge.record). Finished rows go to a journal as they "
                    "complete: after a crash, run the same command again to finish.")
    p.add_argument("--input", "-i", required=True,
                   help="FILE.jsonl | FILE.parquet | a saved dataset DIR | hf:PATH (data files)")
    p.add_argument("--output", "-o", required=True,
                   help="FILE.jsonl | FILE.parquet | DIR (with --output-format dataset)")
    p.add_argument("--output-format", choices=("jsonl", "parquet", "dataset"),
                   help="default: from the output's extension")
    p.add_argument("--split", help="split of a dataset with several")
    p.add_argument("--journal", help="journal file (default: OUTPUT.journal.jsonl); with --engine ray, "
                        "the shard directory (default: OUTPUT.shards)")
    p.add_argument("--batch-size", type=POSITIVE, default=64,
                   help="rows per backend call and per journal sync (default 64); with "
                        "--engine ray, rows per actor batch and per shard")
    cols = p.add_argument_group("columns")
    cols.add_argument("--prompt-column", default="prompt", help="the prompt (default: prompt)")
    cols.add_argument("--responses-column", default="responses",
                      help="several responses: a list or an id -> text object")
    cols.add_argument("--response-column", default="response",
                      help="one response (used when the responses column is absent)")
    cols.add_argument("--principle-column", default="principle",
                      help="per-row principle; '' to ignore it and use --principle everywhere")
    cols.add_argument("--id-column", default="id",
                      help="row id copied into each verdict (default: id; '' for none)")
    cols.add_argument("--prefix", default="",
                      help="prefix for the added columns, e.g. judge_ (when names clash)")
    out = p.add_argument_group("rewards and pairs")
    out.add_argument("--normalize", choices=NORMALIZE_MODES, default="none",
                     help="add a 'rewards' column normalised within each row's responses")
    out.add_argument("--pairs", metavar="PATH",
                     help="also write chosen/rejected pairs with margins (.jsonl, .parquet, or "
                          "a folder with --pairs-format dataset)")
    out.add_argument("--pairs-format", choices=("jsonl", "parquet", "dataset"),
                     help="format of --pairs (default: from its extension)")
    out.add_argument("--pairs-mode", choices=PAIR_MODES, default="all",
                     help="every pair with a margin, or best vs worst (default all)")
    out.add_argument("--min-margin", type=float, default=0.0,
                     help="keep pairs whose score difference exceeds this (default 0: no ties)")
    p.add_argument("--retry-failed", action="store_true",
                   help="judge rows again whose earlier verdict was unparsed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (as --quiet)")
    add_judge_args(p)
    add_engine_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Label the dataset; exit 0 when every row is ok/repaired, 3 otherwise."""
    options = LabelOptions(
        prompt_column=args.prompt_column, responses_column=args.responses_column,
        response_column=args.response_column, principle_column=args.principle_column or None,
        id_column=args.id_column or None, batch_size=args.batch_size, normalize=args.normalize,
        retry_failed=args.retry_failed, prefix=args.prefix, split=args.split,
        output_format=args.output_format, journal=args.journal, pairs=args.pairs,
        pairs_format=args.pairs_format, pair_mode=args.pairs_mode, min_margin=args.min_margin)
    _check_paths(args)
    engine_opts = engine_options(args)
    spec = judge_spec(args)
    engine = build_engine(engine_opts, None, spec) if engine_opts.engine != "local" else None
    # with Ray the model loads in the workers only; the driver's judge carries its identity
    judge = spec.build() if engine is None else spec.build_described(engine.describe())
    bar: Any = None

    def on_start(total: int, todo: int, reused: int) -> None:
        nonlocal bar
        if reused:
            print(f"resuming: {reused} of {total} rows already labeled", file=sys.stderr)
        if not (args.no_progress or args.quiet) and todo:
            from judge.cli.progress import progress

            bar = progress(todo, unit="row", desc="label")

    try:
        summary = label_dataset(judge, args.input, args.output, options, on_start=on_start,
                                on_advance=lambda n: bar.update(n) if bar is not None else None,
                                engine=engine)
    finally:
        if bar is not None:
            bar.close()
        judge.close()
        if engine is not None:
            engine.close()
    for message in summary.invalid[:SHOWN_ERRORS]:
        print(f"error: {message}", file=sys.stderr)
    if len(summary.invalid) > SHOWN_ERRORS:
        print(f"... and {len(summary.invalid) - SHOWN_ERRORS} more invalid rows (each output row's "
              "'problems' says why)", file=sys.stderr)
    counts = summary.counts
    print_summary(counts, counts["invalid_input"], summary.total)
    extra = [f"labeled now {summary.labeled}", f"reused {summary.reused}"]
    if summary.pairs is not None:
        extra.append(f"pairs {summary.pairs} -> {args.pairs}")
    if summary.stale:
        extra.append(f"{summary.stale} journal records from other settings ignored")
    print(f"{', '.join(extra)}; output {summary.output}", file=sys.stderr)
    return 3 if summary.failed else 0


#: Invalid rows printed on stderr; the rest are counted (every one is in the output with why).
SHOWN_ERRORS = 20


def _check_paths(args: argparse.Namespace) -> None:
    """Fail before any work on an empty JSONL input, or an output, journal or pairs file that
    cannot be written."""
    from judge.journal import default_journal_path
    from judge.label.io import output_format

    source = args.input
    if not (source.startswith("hf:") or source.endswith(".parquet") or os.path.isdir(source)):
        check_input(source, "label")  # a JSONL file, as judge.label.io reads it

    fmt = output_format(args.output, args.output_format)
    check_writable(args.output, "--output", directory=fmt == "dataset")
    if args.engine == "local":
        check_writable(args.journal or default_journal_path(args.output), "--journal")
    else:
        from judge.engine.shards import default_shards_path

        check_writable(args.journal or default_shards_path(args.output), "--journal",
                       directory=True)
    if args.pairs_format and not args.pairs:
        raise ConfigError("--pairs-format applies to --pairs: give --pairs PATH too")
    if args.pairs:
        pairs_fmt = output_format(args.pairs, args.pairs_format)
        check_writable(args.pairs, "--pairs", directory=pairs_fmt == "dataset")
