"""``judge distill import | fit | eval | export``: bring in another judge's verdicts as label
records, train a reward head on label records, measure it, and export it: as a checkpoint other
trainers load, or as the ONNX encoder a head runs on without torch."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from judge.cli.argtypes import POSITIVE, fraction
from judge.cli.engine import add_engine_args, build_engine, engine_options
from judge.cli.paths import check_writable
from judge.errors import ConfigError, missing_dependency

LABELS_HELP = ("JSONL label files: `judge rank` / `judge bench run` output (unparsed verdicts "
               "are skipped and counted), gold suites (scores / ranking / gold_scores / "
               "gold_ranking), or chosen/rejected pairs")


def register(sub: Any) -> None:
    """Add the subcommand."""
    p = sub.add_parser("distill", help="distil judge verdicts into a cheap reward head")
    ps = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    imp = ps.add_parser(
        "import", help="turn another judge's verdicts into label records (JSONL)",
        description="Read AlpacaEval annotations, Prometheus eval files or a generic JSONL of "
                    "(prompt, responses, principle, scores | preference | ranking) and write "
                    "label records of the same shape `judge label` writes, the teacher named in "
                    "provenance (backend 'import'). Soft pairwise preferences are kept as "
                    "probabilities (flag 'preference'). Every input row comes out, in order.")
    imp.add_argument("files", nargs="+", metavar="FILE", help="files of one format")
    imp.add_argument("--format", required=True, choices=("alpaca-eval", "prometheus", "jsonl"),
                     help="alpaca-eval: annotations.json(.gz); prometheus: *_eval.json; "
                          "jsonl: generic rows")
    imp.add_argument("--output", "-o", required=True, metavar="FILE.jsonl",
                     help="label records to write (replaced)")
    imp.add_argument("--teacher", help="teacher name for jsonl rows without 'teacher' "
                                       "(jsonl only)")
    imp.add_argument("--principle", metavar="P",
                     help="the principle the AlpacaEval judge applied (alpaca-eval only; "
                          "default: a human-preference principle)")
    imp.set_defaults(func=run_import)

    fit = ps.add_parser("fit", help="train a head on labels (split by prompt) and save it",
                        description="Train a principle-conditioned head over frozen embeddings. "
                                    "Prompts are split by hash: none is in both train and test.")
    fit.add_argument("--labels", nargs="+", required=True, metavar="FILE", help=LABELS_HELP)
    fit.add_argument("--out", required=True, metavar="HEAD_DIR", help="directory to write")
    fit.add_argument("--force", action="store_true", help="overwrite a head in HEAD_DIR")
    fit.add_argument("--name", help="head name (default: the folder name)")
    fit.add_argument("--arch", choices=("linear", "mlp", "ensemble"), default="mlp",
                     help="head architecture (default mlp)")
    fit.add_argument("--hidden", type=POSITIVE, default=64, help="hidden width (mlp members)")
    fit.add_argument("--layers", type=POSITIVE, default=1, help="hidden layers (mlp members)")
    fit.add_argument("--dropout", type=fraction, default=0.1, help="dropout rate (default 0.1)")
    fit.add_argument("--members", type=POSITIVE, default=4, help="ensemble size (--arch ensemble)")
    fit.add_argument("--member", choices=("linear", "mlp"), default="mlp",
                     help="kind of each ensemble member")
    fit.add_argument("--loss", choices=("bt", "regression", "classification"), default="bt",
                     help="bt: Bradley-Terry on ordered pairs (default); regression on the "
                          "teacher's scores; classification (score >= --threshold)")
    fit.add_argument("--threshold", type=float, help="classification threshold")
    fit.add_argument("--epochs", type=POSITIVE, default=20, help="training epochs (default 20)")
    fit.add_argument("--lr", type=float, default=2e-3, help="learning rate (default 0.002)")
    fit.add_argument("--batch-size", type=POSITIVE, default=512,
                     help="pairs or responses per optimiser step (default 512)")
    fit.add_argument("--min-margin", type=float, default=0.0,
                     help="treat teacher score gaps up to this as ties")
    fit.add_argument("--test-fraction", type=fraction, default=0.2,
                     help="share of prompts held out for the report (default 0.2)")
    fit.add_argument("--seed", type=int, default=0,
                     help="seed for initialisation, batches and the prompt split (default 0)")
    fit.add_argument("--test-answer-sets", nargs="+", default=[], metavar="NAME",
                     help="hold these answer sets (label 'answer_set') out whole as the test "
                          "split; other answer sets train, rows without one split by prompt")
    fit.add_argument("--embedder", default="minilm", metavar="SPEC",
                     help="minilm (default) | st:PATH | last-token:PATH | hash:DIM")
    _common(fit)
    add_engine_args(fit)
    fit.set_defaults(func=run_fit)

    ev = ps.add_parser("eval", help="agreement of a head with the teacher, with baselines")
    ev.add_argument("--head", required=True, metavar="HEAD_DIR",
                    help="a directory written by `judge distill fit`")
    ev.add_argument("--labels", nargs="+", required=True, metavar="FILE", help=LABELS_HELP)
    ev.add_argument("--split", choices=("test", "train", "all"), default="test",
                    help="which items to use, by the head's own split (held-out answer sets, "
                         "else prompts; default: test)")
    ev.add_argument("--plot", metavar="FILE.png",
                    help="write a calibration plot of soft (preference) labels (matplotlib)")
    _common(ev)
    ev.set_defaults(func=run_eval)

    ex = ps.add_parser(
        "export", help="export a head: a checkpoint other trainers load (TRL reward_funcs=DIR), "
                       "or the ONNX encoder it scores with, without torch",
        description="--format hf-seq-cls DIR: write a folder that transformers' "
                    "AutoModelForSequenceClassification (trust_remote_code=True) and AutoTokenizer "
                    "load without this package, and that scores like the head; it is checked "
                    "against the head on built-in probes before it is moved into place. "
                    "--format onnx: export the head's sentence-transformers encoder to ONNX (fp32 "
                    "and int8) into the cache ($JUDGE_CACHE_DIR/onnx, else ~/.cache/judge/onnx), "
                    "verify it against torch and print its record; `judge score` builds it on "
                    "first use anyway, run this to build it ahead (an image, CI). Needs torch "
                    "once; scoring does not.")
    ex.add_argument("out", metavar="DIR", nargs="?",
                    help="hf-seq-cls: folder to write (empty or absent); not used by onnx")
    ex.add_argument("--format", required=True, choices=("hf-seq-cls", "onnx"),
                    help="hf-seq-cls: a transformers sequence-classification model (one logit); "
                         "onnx: the encoder for the torch-free runtime")
    ex.add_argument("--head", metavar="HEAD_DIR",
                    help="the head to export (default: the shipped head)")
    ex.add_argument("--principle", metavar="P",
                    help="hf-seq-cls: principle (library id or text) for texts that carry none")
    ex.add_argument("--embedder", metavar="SPEC",
                    help="onnx: export this encoder instead of a head's (minilm | st:PATH)")
    ex.add_argument("--force", action="store_true",
                    help="replace an earlier export (hf-seq-cls: in DIR; onnx: in the cache)")
    ex.set_defaults(func=run_export)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--principle", metavar="P",
                   help="principle (library id or text) for rows that carry none")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="embedding cache (default: $JUDGE_CACHE_DIR or ./.judge-cache)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    p.add_argument("--json", metavar="FILE", help="also write the full report as JSON")


def _imports() -> Any:
    try:
        from judge.distill import train
    except ImportError as exc:
        raise missing_dependency("judge distill", exc.name or "torch", "embed") from exc
    return train


def _labels(args: argparse.Namespace) -> Any:
    from judge.distill.labels import read_labels

    labels = read_labels(args.labels, default_principle=args.principle)
    for problem in labels.problems[:20]:
        print(f"error: {problem}", file=sys.stderr)
    if len(labels.problems) > 20:
        print(f"error: ... {len(labels.problems) - 20} more invalid rows", file=sys.stderr)
    skipped = ", ".join(f"{k}={v}" for k, v in sorted(labels.skipped.items()))
    print(f"{len(labels.items)} items read" + (f"; skipped {skipped}" if skipped else ""),
          file=sys.stderr)
    if not labels.items:
        raise ConfigError("no usable label rows in " + ", ".join(args.labels))
    return labels


def _cache(args: argparse.Namespace, embedder: Any, engine: Any = None,
           on_embedded: Any = None) -> Any:
    from judge.distill.cache import EmbeddingCache, default_cache_dir

    if args.no_cache:
        return None
    return EmbeddingCache(Path(args.cache_dir) if args.cache_dir else default_cache_dir(),
                          embedder, engine=engine, on_embedded=on_embedded)


def _write_json(path: str | None, payload: dict[str, Any]) -> None:
    if path:
        Path(path).write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n",
                              encoding="utf-8")


def run_fit(args: argparse.Namespace) -> int:
    """Read labels, train, evaluate held-out, save the head directory."""
    train = _imports()
    from judge.distill.embedders import load_embedder
    from judge.distill.evaluate import report_markdown
    from judge.distill.heads import HeadArch

    try:
        arch = HeadArch(kind=args.arch, hidden=args.hidden, layers=args.layers,
                        dropout=args.dropout, member=args.member,
                        members=args.members if args.arch == "ensemble" else 1)
        config = train.TrainConfig(
            arch=arch, loss=args.loss, epochs=args.epochs, lr=args.lr,
            batch_size=args.batch_size, seed=args.seed, min_margin=args.min_margin,
            threshold=args.threshold, test_fraction=args.test_fraction, split_seed=args.seed,
            test_groups=tuple(args.test_answer_sets))
    except ValueError as exc:  # pydantic ValidationError is a ValueError
        raise ConfigError(f"invalid training option: {exc}") from None
    out = Path(args.out)
    if (out / "config.json").exists() and not args.force:
        raise ConfigError(f"{out} already holds a head; pass --force to overwrite it")
    check_writable(out, "--out", directory=True)
    check_writable(args.json, "--json")
    engine_opts = engine_options(args)
    if engine_opts.engine != "local" and args.no_cache:
        raise ConfigError("--engine ray embeds into the embedding cache; drop --no-cache")
    labels = _labels(args)
    engine = None
    if engine_opts.engine != "local":
        from judge.distill.cache import EmbedderSpec

        engine = build_engine(engine_opts, None, EmbedderSpec(args.embedder))
    embedder = load_embedder(args.embedder)
    command = "judge distill fit " + " ".join(shlex.quote(a) for a in sys.argv[3:]) \
        if sys.argv[1:3] == ["distill", "fit"] else None
    result = _fit_with_progress(train, args, labels.items, embedder, config, engine,
                                name=args.name or out.resolve().name, command=command)
    result.config["training"]["skipped_rows"] = dict(labels.skipped)
    head = result.save(out, overwrite=args.force)
    if result.report:
        print(report_markdown(result.report, title="Held-out prompts"))
    else:
        print("no held-out prompts (--test-fraction 0): nothing to report")
    print(f"saved {out} ({head.config.training['description']}, "
          f"{result.seconds['train']} s training, {len(result.train_items)} train / "
          f"{len(result.test_items)} test items)", file=sys.stderr)
    _write_json(args.json, {"head": str(out), "report": result.report,
                            "training": result.config["training"]})
    return 3 if labels.skipped.get("invalid") else 0


def _fit_with_progress(train: Any, args: argparse.Namespace, items: Any, embedder: Any,
                       config: Any, engine: Any = None, **kwargs: Any) -> Any:
    """``train.fit_head`` with a bar for the texts embedded and one for the epochs."""
    from judge.cli.fit_progress import CountingEmbedder, texts_to_embed
    from judge.cli.progress import progress

    counting = CountingEmbedder(embedder)
    cache = _cache(args, counting, engine, lambda n: counting.bar.update(n))
    todo = texts_to_embed(items, config, cache)
    embed_bar = counting.bar = progress(todo, unit="text", desc="embed",
                                        quiet=args.quiet or not todo)
    epoch_bar: Any = None

    def on_epoch(epoch: int, loss: float) -> None:
        nonlocal epoch_bar
        if epoch_bar is None:
            embed_bar.close()
            epoch_bar = progress(config.epochs, unit="epoch", desc="train", quiet=args.quiet)
        epoch_bar.update(1)

    try:
        return train.fit_head(items, counting, config, cache=cache, on_epoch=on_epoch, **kwargs)
    finally:
        if epoch_bar is None:
            embed_bar.close()
        else:
            epoch_bar.close()


def run_import(args: argparse.Namespace) -> int:
    """Write label records from another judge's verdict files (every row, in order)."""
    from collections import Counter

    from judge.cli.paths import check_writable
    from judge.jsonl import JsonlWriter
    from judge.label.importer import import_file

    if args.teacher is not None and args.format != "jsonl":
        raise ConfigError(f"--teacher applies only to --format jsonl ({args.format} files name "
                          "their teacher)")
    check_writable(args.output, "--output")
    counts: Counter[str] = Counter()
    with JsonlWriter(args.output) as out:
        for path in args.files:
            for rec in import_file(path, args.format, teacher=args.teacher or "imported",
                                   principle=args.principle):
                counts[str(rec["status"])] += 1
                if rec["status"] == "invalid_input":
                    print(f"error: {rec['problems'][0]}", file=sys.stderr)
                out.write(rec)
    summary = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
    print(f"wrote {sum(counts.values())} label records to {args.output} ({summary})",
          file=sys.stderr)
    return 3 if counts.get("invalid_input") else 0


def run_eval(args: argparse.Namespace) -> int:
    """Score labels with a head and report agreement and baselines."""
    _imports()
    from judge.distill.evaluate import evaluate_head, report_markdown
    from judge.distill.head import load_head
    from judge.distill.labels import split_items

    check_writable(args.json, "--json")
    head = load_head(args.head, runtime="torch")  # scores through the torch network
    split = head.config.training.get("split", {})
    labels = _labels(args)
    items = labels.items
    if args.split != "all":
        train_items, test_items = split_items(
            items, test_fraction=float(split.get("test_fraction", 0.0)),
            seed=int(split.get("seed", 0)), test_groups=split.get("test_answer_sets") or ())
        items = test_items if args.split == "test" else train_items
    if not items:
        raise ConfigError(f"no label items fall in the head's {args.split} split; use "
                          "--split all to score every item")
    cache = _cache(args, head.embedder)
    report = evaluate_head(head, items, cache)
    print(report_markdown(report, title=f"{head.name} on its {args.split} split "
                                        f"({len(items)} items)"))
    if args.plot:
        from judge.distill.dataset import embed_items
        from judge.distill.soft import calibration_plot

        predicted, _ = embed_items(items, head.embedder, cache).scores(head.net)
        print(f"wrote {calibration_plot(items, predicted, args.plot, title=head.name)}",
              file=sys.stderr)
    _write_json(args.json, {"head": args.head, "split": args.split, "report": report})
    return 3 if labels.skipped.get("invalid") else 0


def run_export(args: argparse.Namespace) -> int:
    """Export a head (see ``judge distill export --help``)."""
    if args.format == "onnx":
        for flag, given in (("DIR", args.out), ("--principle", args.principle)):
            if given:
                raise ConfigError(f"{flag} does not apply to --format onnx: the ONNX export goes "
                                  "to the cache ($JUDGE_CACHE_DIR/onnx) and has no principle")
        return run_export_onnx(args)
    if args.embedder:
        raise ConfigError("--embedder applies to --format onnx only: an hf-seq-cls export "
                          "carries its head's encoder (choose the head with --head)")
    if not args.out:
        raise ConfigError("--format hf-seq-cls needs DIR, the folder to write")
    return _export_hf(args)


def _export_hf(args: argparse.Namespace) -> int:
    """Write the hf-seq-cls folder."""
    _imports()
    from judge.distill.backend import default_head_dir
    from judge.distill.export_hf import export_hf_seq_cls

    check_writable(args.out, "DIR", directory=True)
    head = Path(args.head) if args.head else default_head_dir()
    if not (head / "config.json").is_file():
        raise ConfigError(f"--head {head}: no head there (config.json missing); pass a folder "
                          "written by `judge distill fit`")
    result = export_hf_seq_cls(head, args.out, principle=args.principle, force=args.force)
    print(f"wrote {result.folder} ({args.format}; max abs difference to the head "
          f"{result.max_abs_diff:.1e} on {result.probes} probes)", file=sys.stderr)
    return 0


def run_export_onnx(args: argparse.Namespace) -> int:
    """Build (or find) the ONNX encoder export and print its record as JSON."""
    import shutil

    from judge.distill.embed_onnx import META_FILE, require_onnxruntime
    from judge.distill.onnx_build import (
        FAILED_SUFFIX,
        build_onnx_encoder,
        cache_root,
        export_key,
        source_folder,
    )

    if args.head and args.embedder:
        raise ConfigError("--head and --embedder: give one (the head names its encoder)")
    spec = args.embedder
    if not spec:
        from judge.distill.artifact import read_config
        from judge.distill.backend import default_head_dir

        spec = read_config(Path(args.head) if args.head else default_head_dir()).embedder.spec
    require_onnxruntime()
    source = source_folder(spec)
    out = cache_root() / export_key(source)
    if args.force:
        shutil.rmtree(out, ignore_errors=True)
        out.with_name(out.name + FAILED_SUFFIX).unlink(missing_ok=True)
    if not (out / META_FILE).is_file():
        print(f"building the ONNX export of '{spec}' into {out} ...", file=sys.stderr)
        build_onnx_encoder(source, out, spec=spec)
    record = json.loads((out / META_FILE).read_text(encoding="utf-8"))
    print(json.dumps({"folder": str(out), **record}, indent=2))
    return 0
