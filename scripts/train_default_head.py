"""Train the shipped default reward head (heads/default) from ../shared/data.

    .venv/bin/python scripts/train_default_head.py [--data ../shared/data] [--out heads/default]
    .venv/bin/python scripts/train_default_head.py --validate   # tune: test on the validation set

Teacher and data (read at run time, never copied into the repository):

* AlpacaEval 2.0 verdicts: GPT-4-turbo (``weighted_alpaca_eval_gpt4_turbo``) pairwise
  preferences as *probabilities*, imported with ``judge.label.importer`` into label records and
  read back by the distillation reader (the path ``judge distill import`` + ``fit`` takes).
  Split by **answer set**: whole policies are held out (:data:`TEST_SETS`); :data:`VAL_SETS`,
  carved from the training pool, is the only set used to choose settings (``--validate``).
* RM-Bench (correctness-controlled, three styles): the same six responses ordered under
  opposite principle families (concise / thorough / markdown / plain / correctness), so the
  head must swap its order when only the principle changes; one wording per family is never
  trained on. Split by prompt.
* Prometheus MT-Bench / Vicuna-Bench rubric scores (GPT-4) train; the human HHH pairs evaluate.

Embeddings are cached under --cache-dir, so a second run only retrains.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from default_head_data import (
    CLEAR_RATIO,
    RM_FILES,
    WORDINGS,
    alpaca_items,
    hard_cells,
    hhh_items,
    prometheus_items,
    rm_bench_items,
    style_items,
)
from head_card import DATA_SECTION, INTRO, must_show_section

from judge.distill.cache import EmbeddingCache
from judge.distill.card import render_card
from judge.distill.dataset import embed_items
from judge.distill.embedders import load_embedder
from judge.distill.evaluate import report_for, report_markdown
from judge.distill.heads import HeadArch
from judge.distill.labels import LabelItem, split_items
from judge.distill.metrics import flip_rate
from judge.distill.soft import calibration_plot
from judge.distill.train import TrainConfig, fit_head
from judge.distill.train import headline as headline_figures
from judge.label.importer import ALPACA_PRINCIPLE
from judge.principles import resolve_principle

log = logging.getLogger("train_default_head")

#: Held out whole (answer sets the head never sees); longer-wins agrees with the teacher on
#: 0.60, 0.83 and 0.87 of their pairs.
TEST_SETS = ("FuseChat-Llama-3.1-8B-Instruct", "claude-2", "Mixtral-8x7B-Instruct-v0.1_concise")
#: Carved from the training pool to choose settings (longer-wins 0.54); trains in the final run.
VAL_SETS = ("FuseChat-Llama-3.2-1B-Instruct",)
#: The training pool (embedding time on a 2-core machine limited it to these six, long and
#: short answers, strong and weak policies); more: --train-sets.
TRAIN_SETS = ("FuseChat-Gemma-2-9B-Instruct", "FuseChat-Llama-3.2-3B-Instruct",
              "OpenHermes-2.5-Mistral-7B", "gpt4_0613_concise", "alpaca-7b")
#: Principles nothing was trained near: the in-distribution flag must catch them.
FAR_PRINCIPLES = ("Answer in French.", "The response must rhyme like a poem.",
                  "Prefer the answer that mentions cats the most.",
                  "Reply only with a valid JSON object.")


def flip_items(items: list[LabelItem], min_ratio: float = 1.0) -> list[LabelItem]:
    """The correct concise RM-Bench response against each correct detailed one, under the
    concise and thorough families (``min_ratio`` > 1: only detailed ones that much longer)."""
    aliases = {"correct-then-concise": "concise", "correct-then-thorough": "thorough"}
    out = []
    for it in items:
        fam = aliases.get(it.principle_id, it.principle_id.split(":", 1)[0])
        if fam not in ("concise", "thorough"):
            continue
        keep = [0] + [j for j in (1, 2) if len(it.responses[j]) >= min_ratio *
                      len(it.responses[0]) and it.responses[j] != it.responses[0]]
        if len(keep) > 1:
            out.append(LabelItem(principle=it.principle, principle_id=fam, prompt=it.prompt,
                                 responses=tuple(it.responses[k] for k in keep),
                                 scores=tuple(it.scores[k] for k in keep), source=it.source))
    return out


def principle_threshold(result: Any, cache: EmbeddingCache, heldout: list[str]
                        ) -> dict[str, Any]:
    """Training principle vectors and the in-distribution threshold: a little below the
    least similar *unseen wording of a trained family* (those must pass), reported next to
    principles nothing was trained near (those should be flagged)."""
    texts = sorted({it.principle for it in result.train_items})
    vecs = cache.embed(texts)

    def nearest(ps: list[str]) -> list[float]:
        return [round(float(np.max(vecs @ v)), 4) for v in cache.embed(ps)]

    seen = nearest(heldout)
    far = nearest(list(FAR_PRINCIPLES))
    threshold = round(min(seen) - 0.05, 4)
    figures = {"threshold": threshold, "unseen_wordings": dict(zip(heldout, seen, strict=True)),
               "far_principles": dict(zip(FAR_PRINCIPLES, far, strict=True)),
               "far_flagged": sum(s < threshold for s in far)}
    return figures


def evaluations(result: Any, embedder: Any, cache: EmbeddingCache, data: Path,
                rm_files: tuple[str, ...], out: Path) -> dict[str, Any]:
    """Every figure of the card, measured on held-out data only."""
    net = result.net

    def run(items: list[LabelItem]) -> list[list[float]]:
        return embed_items(items, embedder, cache).scores(net)[0] if items else []

    figs: dict[str, Any] = {}
    test_alp = [it for it in result.test_items if it.source.startswith("alpaca-eval")]
    pred = run(test_alp)
    figs["alpaca"] = report_for(test_alp, pred)
    calibration_plot(test_alp, pred, out / "calibration.png",
                     title="held-out answer sets vs GPT-4-turbo")
    test_rm = [it for it in result.test_items if it.source.startswith("rm-bench/")]
    heldout_all = rm_bench_items(data, "heldout", rm_files)
    _, heldout = split_items(heldout_all, test_fraction=0.2, seed=0)
    for name, source in (("library", [it for it in test_rm if it.principle_id in
                                      ("correct-then-concise", "correct-then-thorough")]),
                         ("unseen_wording", heldout)):
        for suffix, ratio in (("", 1.0), ("_clear", CLEAR_RATIO)):
            flips = flip_items(source, min_ratio=ratio)
            figs[f"flip_{name}{suffix}"] = flip_rate(flips, run(flips)).as_dict()
    correctness = [it for it in test_rm if it.principle_id == "factual-accuracy"]
    figs["hard_cells_factual_accuracy"] = hard_cells(correctness, run(correctness))
    alp_p = resolve_principle(ALPACA_PRINCIPLE).text
    under_alp = [LabelItem(principle=alp_p, principle_id="alpaca", prompt=it.prompt,
                           responses=it.responses, scores=it.scores, source=it.source)
                 for it in correctness]
    figs["hard_cells_alpaca_principle"] = hard_cells(under_alp, run(under_alp))
    figs["rm_bench"] = report_for(test_rm, run(test_rm))
    figs["unseen_wordings"] = report_for(heldout, run(heldout))
    hhh = hhh_items(data)
    figs["hhh"] = report_for(hhh, run(hhh))
    return figs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--out", default=str(ROOT / "heads" / "default"))
    parser.add_argument("--cache-dir", default=str(ROOT / ".judge-cache"))
    parser.add_argument("--validate", action="store_true",
                        help="hold out the validation answer set instead of the test sets")
    parser.add_argument("--train-sets", nargs="+", default=list(TRAIN_SETS))
    parser.add_argument("--rm-files", nargs="+", default=["chat"], choices=RM_FILES)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=48)
    parser.add_argument("--input-dropout", type=float, default=0.7)
    parser.add_argument("--alpaca-weight", type=float, default=12.0)
    parser.add_argument("--prometheus-weight", type=float, default=20.0)
    parser.add_argument("--style-weight", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--embedder", default="minilm",
                        help="encoder spec (hash:64 for a fast smoke run of this script)")
    parser.add_argument("--dtype", choices=("float16", "float32"), default="float16")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    start = time.perf_counter()
    data, out = Path(args.data), Path(args.out)
    rm_files = tuple(args.rm_files)
    test_sets = VAL_SETS if args.validate else TEST_SETS
    train_sets = tuple(args.train_sets) + (() if args.validate else VAL_SETS)
    rm_items = rm_bench_items(data, "train", rm_files)
    items = alpaca_items(data, train_sets + test_sets, args.alpaca_weight) + rm_items
    if args.prometheus_weight > 0:
        items += prometheus_items(data, args.prometheus_weight)
    if args.style_weight > 0:
        items += style_items(rm_items, args.style_weight)
    log.info("%d label items", len(items))
    embedder = load_embedder(args.embedder)
    cache = EmbeddingCache(args.cache_dir, embedder)
    config = TrainConfig(
        arch=HeadArch(kind="ensemble", members=args.members, hidden=args.hidden, member="mlp",
                      dropout=0.3, input_dropout=args.input_dropout),
        loss="bt", epochs=args.epochs, lr=2e-3, weight_decay=1e-2, batch_size=512,
        seed=args.seed, center_coef=0.01, min_margin=0.4, test_fraction=0.2, split_seed=0,
        test_groups=test_sets)
    command = "python scripts/train_default_head.py " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    result = fit_head(items, embedder, config, cache=cache, name="default",
                      command=command.strip())
    plain_test = [it for it in result.test_items if not it.source.startswith("style:")]
    result.test_items = plain_test
    plain_data = embed_items(plain_test, embedder, cache)
    report = report_for(plain_test, plain_data.scores(result.net)[0], plain_data.cosine())
    result.config["metrics"]["held_out"] = report
    headline = result.config["metrics"]["headline"] = headline_figures(report)
    out.mkdir(parents=True, exist_ok=True)
    figs = evaluations(result, embedder, cache, data, rm_files, out)
    heldout_wordings = [resolve_principle(w).text for f in WORDINGS.values()
                        for w in f["heldout"]]
    ood = figs["in_distribution"] = principle_threshold(result, cache, heldout_wordings)
    result.config["training"]["principle_index"]["threshold"] = ood["threshold"]
    result.config["training"]["seconds"]["total"] = round(time.perf_counter() - start, 1)
    result.config["metrics"]["extra"] = figs
    for key in ("library", "library_clear", "unseen_wording", "unseen_wording_clear"):
        headline[f"principle_flip_rate_{key}"] = figs[f"flip_{key}"]["flip_rate"]
    headline["hhh_pairwise_accuracy"] = figs["hhh"]["head"]["all"]["pairwise_accuracy"]
    headline["teacher_soft_pearson"] = figs["alpaca"]["soft"]["pearson"]
    headline["rm_bench_hard_cells"] = figs["hard_cells_factual_accuracy"]["hard"][
        "pairwise_accuracy"]
    sections = [DATA_SECTION, must_show_section(figs, test_sets),
                report_markdown(figs["alpaca"], title="Held-out answer sets (GPT-4-turbo)"),
                report_markdown(figs["rm_bench"], title="RM-Bench held-out prompts",
                                max_principles=16),
                report_markdown(figs["unseen_wordings"], title="Unseen principle wordings "
                                "(RM-Bench held-out prompts)"),
                report_markdown(figs["hhh"], title="HHH alignment (human labels; never "
                                "trained on)")]
    card = render_card(result.config, intro=INTRO, sections=sections)
    head = result.save(out, card=card, overwrite=True, dtype=args.dtype)
    print(json.dumps({"out": str(out), "validate": args.validate, "headline": headline,
                      "by_answer_set": figs["alpaca"]["by_answer_set"],
                      "length": figs["alpaca"]["length"],
                      "hard_cells": figs["hard_cells_factual_accuracy"],
                      "hard_cells_alpaca_principle": figs["hard_cells_alpaca_principle"],
                      "in_distribution": ood}, indent=2))
    log.info("saved %s (%s)", out, head.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
