"""``judge bench run|report|compare|suites``: RABench-style evaluation of a judge."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from judge.cli.argtypes import NON_NEGATIVE, POSITIVE
from judge.cli.common import add_judge_args, judge_spec, parse_options
from judge.cli.engine import add_engine_args, build_engine, engine_options
from judge.cli.paths import check_writable

if TYPE_CHECKING:
    from judge.bench.suites import Suite


def register(sub: Any) -> None:
    """Add the ``bench`` command and its subcommands."""
    p = sub.add_parser("bench", help="evaluate a judge on ranking suites (RABench-style)",
                       description="Run a judge over a suite of principle-conditioned ranking "
                                   "lists, then report accuracy, Kendall tau, NDCG, top-1, "
                                   "score variance and unparsed rate with bootstrap CIs.")
    bench = p.add_subparsers(dest="bench_command", required=True, metavar="SUBCOMMAND")

    r = bench.add_parser("run", help="judge every list of a suite (resumable)",
                         description="Judge a suite; records are written as lists finish, so "
                                     "running the same command again resumes a killed run. "
                                     "--backend oracle | oracle:reversed | oracle:noisy answers "
                                     "from the gold labels (a sanity check).")
    r.add_argument("suite", help="sample | rm-bench | prometheus:mt_bench|vicuna|hhh | "
                                 "pairwise:FILE | PATH, or a published benchmark: judgebench | "
                                 "llmbar | rewardbench2 | rmbench | prefgraph (with --data)")
    r.add_argument("--data", help="a published benchmark's folder as released, or a folder or "
                                  "file under it (default: $JUDGE_DATA); docs/benchmarks.md")
    r.add_argument("--out", help="run directory (default: runs/bench/SUITE/BACKEND-sSEED)")
    r.add_argument("--data-dir", help="folder holding rm-bench/ and prometheus-eval/ "
                                      "(default: $JUDGE_DATA_DIR or ../shared/data)")
    r.add_argument("--limit", type=POSITIVE, help="judge only N lists, spread evenly over the suite")
    r.add_argument("--chunk-size", type=POSITIVE, default=16,
                   help="lists sent to the judge at once (default 16); with --engine ray, "
                        "lists per actor batch")
    r.add_argument("--no-report", action="store_true", help="do not write the report after")
    r.add_argument("--both-orders", action="store_true",
                   help="judge each list in a seeded order and its reverse; the report adds "
                        "position and length bias (always on for the published benchmarks)")
    _report_args(r)
    add_judge_args(r)
    add_engine_args(r)
    r.set_defaults(func=run_cmd)

    rep = bench.add_parser("report", help="write report.md/.json and plots for a run",
                           description="Write report.md, report.json and plots/*.png into a "
                                       "run directory.")
    rep.add_argument("run_dir", help="a directory written by `judge bench run`")
    _report_args(rep)
    rep.set_defaults(func=report_cmd)

    cmp_ = bench.add_parser("compare", help="several runs side by side",
                            description="Put several runs in one table and one plot.")
    cmp_.add_argument("run_dirs", nargs="+", help="run directories")
    cmp_.add_argument("--out", default="bench-compare",
                      help="output folder (default: bench-compare)")
    _report_args(cmp_)
    cmp_.set_defaults(func=compare_cmd)

    s = bench.add_parser("suites", help="list the suites and where their data is")
    s.add_argument("--data-dir", help="folder holding rm-bench/ and prometheus-eval/")
    s.set_defaults(func=suites_cmd)


def _report_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("report")
    g.add_argument("--resamples", type=NON_NEGATIVE, default=1000,
                   help="bootstrap resamples for the 95%% intervals (default 1000; 0 = none)")
    g.add_argument("--bootstrap-seed", type=int, default=0, help="bootstrap seed (default 0)")
    g.add_argument("--no-plots", action="store_true", help="skip the PNG plots")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "run"


def default_out(suite: str, backend: str, seed: int) -> Path:
    """``runs/bench/SUITE/BACKEND-sSEED`` with path-safe names."""
    kind, _, target = backend.partition(":")
    name = kind + (f"-{Path(target.split('#')[-1]).name}" if target else "")
    return Path("runs") / "bench" / _slug(Path(suite).name) / f"{_slug(name)}-s{seed}"


def run_cmd(args: argparse.Namespace) -> int:
    """Build the suite and the judge, run, then report."""
    from judge.backends import backend_entry, load_backend
    from judge.bench.runner import run_suite

    out = Path(args.out) if args.out else default_out(args.suite, args.backend, args.seed)
    check_writable(out, "--out", directory=True)
    from judge.errors import ConfigError

    engine_opts = engine_options(args)
    suite = _load(args)
    if backend_entry(args.backend).needs:  # the oracle answers from the suite's gold labels
        if engine_opts.engine != "local":
            raise ConfigError(f"--backend {args.backend} answers from the suite's gold labels "
                              "in this process; drop --engine ray")
        args.backend = load_backend(args.backend, context={"items": suite.items},
                                    **parse_options(args.backend_option))
        args.backend_option = []
    spec = judge_spec(args)
    engine = build_engine(engine_opts, None, spec) if engine_opts.engine != "local" else None
    # with Ray the model loads in the workers only; the driver's judge carries its identity
    judge = spec.build() if engine is None else spec.build_described(engine.describe())
    print(f"suite {suite.name}: {len(suite.items)} lists (version {suite.version}); "
          f"run directory {out}", file=sys.stderr)
    from judge.cli.progress import progress

    bar: Any = None

    def on_start(planned: int, done: int) -> None:
        nonlocal bar
        if done:
            print(f"resuming: {done} of {planned} lists already judged", file=sys.stderr)
        if planned > done:
            bar = progress(planned - done, unit="list", desc="bench", quiet=args.quiet)

    try:
        result = run_suite(suite, judge, out, chunk_size=args.chunk_size, limit=args.limit,
                           on_start=on_start, both_orders=args.both_orders, engine=engine,
                           progress=lambda n: bar.update(n) if bar is not None else None)
    except KeyboardInterrupt:
        print(f"\nstopped; finished lists are saved in {out}. Run the same command to resume.",
              file=sys.stderr)
        raise
    finally:
        if bar is not None:
            bar.close()
        judge.close()
        if engine is not None:
            engine.close()
    counts = ", ".join(f"{k}={v}" for k, v in sorted(result.counts.items()))
    print(f"{result.planned} lists: {result.judged} judged now, {result.already_done} done "
          f"before; {counts}", file=sys.stderr)
    if not args.no_report:
        _write_and_summarise(out, args)
    return 3 if result.counts.get("backend_error") else 0


def _load(args: argparse.Namespace) -> Suite:
    """The suite to run: a published benchmark (``--data``) or a named suite / path."""
    from judge.bench.published import ADAPTERS, load_published
    from judge.bench.suites import load_suite
    from judge.errors import ConfigError

    if (args.permutations or 1) > 1 and (args.suite in ADAPTERS or args.both_orders):
        what = args.suite if args.suite in ADAPTERS else "--both-orders"
        raise ConfigError(f"--permutations does not apply to {what}: each list is judged in a "
                          "seeded order and its reverse; drop --permutations")
    if args.suite in ADAPTERS:
        if args.data_dir is not None:
            raise ConfigError(f"--data-dir does not apply to {args.suite}; pass its folder "
                              "with --data PATH")
        if args.principle is not None:
            raise ConfigError(f"--principle does not apply to {args.suite}: each benchmark "
                              "judges under its own principle (docs/benchmarks.md)")
        suite = load_published(args.suite, args.data)
        if suite.missing:
            print(f"{args.suite}: subsets not found under {suite.source}: "
                  f"{', '.join(suite.missing)}; running the rest", file=sys.stderr)
        return suite
    if args.data is not None:
        raise ConfigError(f"--data applies to the published benchmarks ({', '.join(ADAPTERS)}); "
                          f"for '{args.suite}' use --data-dir")
    return load_suite(args.suite, data=args.data_dir, principle=args.principle)


def _write_and_summarise(run_dir: Path, args: argparse.Namespace) -> None:
    from judge.bench.report import fmt, write_report

    files = write_report(run_dir, resamples=args.resamples, seed=args.bootstrap_seed,
                         plots=not args.no_plots)
    report = __import__("json").loads(files.json.read_text(encoding="utf-8"))
    ov = report["metrics"]["default"]["overall"]
    st = report["metrics"]["strict"]["overall"]
    print(f"accuracy {fmt(ov['accuracy'])} · tau {fmt(ov['tau'])} · NDCG {fmt(ov['ndcg'])} · "
          f"top-1 {fmt(ov['top1'])} · unparsed {fmt(ov['unparsed_rate'], ci=False)}% "
          f"({ov['unparsed']} of {ov['lists']}) · strict accuracy {fmt(st['accuracy'])}")
    if report.get("published"):
        from judge.bench.published.section import headline

        print(headline(report["published"]))
    print(f"report: {files.markdown}")


def report_cmd(args: argparse.Namespace) -> int:
    """Write the report of a run directory."""
    check_writable(args.run_dir, "run_dir", directory=True)
    _write_and_summarise(Path(args.run_dir), args)
    return 0


def compare_cmd(args: argparse.Namespace) -> int:
    """Write a comparison of several runs."""
    from judge.bench.compare import write_comparison

    check_writable(args.out, "--out", directory=True)
    files = write_comparison(args.run_dirs, args.out, resamples=args.resamples,
                             seed=args.bootstrap_seed, plots=not args.no_plots)
    print(files.markdown.read_text(encoding="utf-8"))
    print(f"comparison: {files.markdown}", file=sys.stderr)
    return 0


def suites_cmd(args: argparse.Namespace) -> int:
    """List the named suites."""
    from judge.bench.published import ADAPTERS, DATA_ENV
    from judge.bench.suites import describe_suites

    for name, desc, where in describe_suites(args.data_dir):
        print(f"{name:22} {desc}\n{'':22} {where}")
    for name, adapter in ADAPTERS.items():
        print(f"{name:22} {adapter.title}, scored by its authors' rule\n{'':22} "
              f"--data PATH or ${DATA_ENV} (docs/benchmarks.md)")
    return 0
