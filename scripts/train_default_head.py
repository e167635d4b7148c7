"""Train the shipped default reward head (heads/default) from ../shared/data.

    .venv/bin/python scripts/train_default_head.py [--data ../shared/data] [--out heads/default]

Data (read at run time, never copied into the repository):

* RM-Bench (chat, code, safety-refuse, safety-response): each prompt has three correct and three
  subtly wrong responses in three styles (concise, detailed plain text, detailed markdown). The
  same six responses are labelled under several principles, written below as score tables:
  correctness first then concise, correctness first then thorough, markdown structure, plain
  prose, correctness only. So the head sees identical responses ordered oppositely under
  opposite principles, which is what makes it principle-sensitive.
* prometheus-eval MT-Bench and Vicuna-Bench sets: each response's instance rubric (criterion +
  five anchors) is the principle; the label is the mean of GPT-4's three 1-5 scores; responses
  to the same prompt become pairs.
* prometheus-eval HHH alignment pairs (human labels per aspect) are used for evaluation only.

Embeddings are cached under --cache-dir, so a second run only retrains (seconds).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shlex
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from judge.distill.cache import EmbeddingCache
from judge.distill.card import render_card
from judge.distill.dataset import embed_items
from judge.distill.embedders import load_embedder
from judge.distill.evaluate import evaluate_embedded, report_for, report_markdown
from judge.distill.heads import HeadArch
from judge.distill.labels import LabelItem, split_items
from judge.distill.metrics import Agreement, flip_rate
from judge.distill.train import TrainConfig, fit_head
from judge.distill.train import headline as headline_figures
from judge.principles import Principle, resolve_principle

log = logging.getLogger("train_default_head")

RM_FILES = ("chat", "code", "safety-refuse", "safety-response")
STYLE = ("concise", "detailed", "markdown")
IDS = tuple(f"{kind}-{s}" for kind in ("correct", "wrong") for s in STYLE)
CLEAR_RATIO = 1.5

# Score tables over (concise, detailed plain, detailed markdown); `correct_first` adds a bonus
# larger than any style gap to the three correct responses. Equal scores = no preference.
FAMILIES: dict[str, dict[str, Any]] = {
    "concise": {"style": (2, 1, 1), "correct_first": True},
    "thorough": {"style": (0, 1, 2), "correct_first": True},
    "markdown": {"style": (1, 1, 2), "correct_first": True},
    "plain": {"style": (1, 1, 0), "correct_first": False},
    "correctness": {"style": (0, 0, 0), "correct_first": True},
}

# Principle wordings per family: library ids and free text. "heldout" wordings are never
# trained on; they measure how the head generalises to new phrasings.
WORDINGS: dict[str, dict[str, list[str]]] = {
    "concise": {
        "train": [
            "correct-then-concise",
            "Prefer the shortest correct answer; cut background, repetition and filler.",
            "Correct answers beat wrong ones; among correct answers, the briefer one wins.",
            ("Be concise: give the answer directly in as few words as possible, as long as it "
            "is right."),
        ],
        "heldout": ["Keep it short and to the point: accuracy first, then brevity."],
    },
    "thorough": {
        "train": [
            "correct-then-thorough",
            ("Prefer detailed, comprehensive answers that explain the reasoning, provided they "
            "are correct."),
            ("Correctness first; after that, reward depth: more explanation, examples and "
            "well-organised formatting."),
            ("The best response is complete and thorough, with headings or lists that make a "
            "long answer easy to follow."),
        ],
        "heldout": [("Favour in-depth, fully worked explanations over brief replies, but never "
                    "reward errors.")],
    },
    "markdown": {
        "train": ["structured-headings",
                  ("Prefer responses formatted with markdown: headings, bold key terms and "
                  "bullet lists.")],
        "heldout": ["Reward rich formatting such as section headers and bulleted lists."],
    },
    "plain": {
        "train": [("Write in plain prose: penalise markdown headings, bold text and bullet "
                  "lists.")],
        "heldout": ["Avoid markdown formatting; plain paragraphs are best."],
    },
    "correctness": {
        "train": ["factual-accuracy",
                  ("Only correctness matters: any factual, logical or code error loses, "
                  "whatever the style.")],
        "heldout": ["Judge accuracy alone and ignore length and formatting."],
    },
}


def family_scores(family: str, responses: tuple[str, ...]) -> tuple[float, ...]:
    """Scores for the six RM-Bench responses (IDS order) under a principle family.

    Identical texts (RM-Bench sometimes repeats a response across styles) get the mean of their
    scores, so no pair orders a text against itself.
    """
    spec = FAMILIES[family]
    bonus = 10.0 if spec["correct_first"] else 0.0
    scores = [bonus + s for s in spec["style"]] + [float(s) for s in spec["style"]]
    for text in set(responses):
        same = [n for n, r in enumerate(responses) if r == text]
        for n in same:
            scores[n] = sum(scores[m] for m in same) / len(same)
    return tuple(scores)


def _short(text: str, width: int = 44) -> str:
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def rm_bench_items(data: Path, split: str) -> list[LabelItem]:
    """RM-Bench rows under every wording of every family (``split``: train or heldout)."""
    items = []
    for name in RM_FILES:
        rows = json.loads((data / "rm-bench" / f"{name}_filtered.json").read_text())
        for row in rows:
            responses = tuple(row["chosen"]) + tuple(row["rejected"])
            for family, wordings in WORDINGS.items():
                for wording in wordings[split]:
                    p = resolve_principle(wording)
                    label = p.id if p.version else f"{family}: {_short(p.text)}"
                    items.append(LabelItem(
                        principle=p.text, principle_id=label, prompt=row["prompt"],
                        responses=responses,
                        scores=family_scores(family, responses), ids=IDS,
                        source=f"rm-bench/{name}"))
    return items


def style_items(items: list[LabelItem], weight: float) -> list[LabelItem]:
    """Extra weight on the pairs a principle's style decides: per RM-Bench item, the three
    correct and the three wrong responses again as separate items (weight ``weight``).

    Frozen sentence embeddings cannot tell a subtly wrong response from a correct one, so the
    correctness pairs mostly teach the head to memorise texts; up-weighting the style pairs
    keeps it following the principle on new prompts. These items are training-only: every
    held-out figure is computed on the plain items.
    """
    out = []
    for it in items:
        for part in (slice(0, 3), slice(3, 6)):
            scores = it.scores[part]
            if len(set(scores)) > 1:
                out.append(LabelItem(
                    principle=it.principle, principle_id=it.principle_id, prompt=it.prompt,
                    responses=it.responses[part], scores=scores, ids=it.ids[part],
                    source="style:" + it.source, weight=weight))
    return out


_HEADING = re.compile(r"^###(.+?):[ \t]*$", re.MULTILINE)
_ANCHOR = re.compile(r"^Score (\d):\s*(.*)$", re.MULTILINE)


def parse_prometheus(instruction: str) -> tuple[str, str, str]:
    """(prompt, response, principle text) from a Prometheus absolute-grading prompt."""
    marks = list(_HEADING.finditer(instruction))
    parts = {m.group(1).strip(): instruction[m.end():(marks[i + 1].start() if i + 1 < len(marks)
                                                      else len(instruction))].strip()
             for i, m in enumerate(marks)}
    rubric = parts["Score Rubrics"]
    criterion = rubric.split("\n", 1)[0].strip().strip("[]").strip()
    anchors = {int(k): v.strip() for k, v in _ANCHOR.findall(rubric)}
    principle = Principle(id="rubric", title=criterion[:60], statement=criterion, rubric=anchors)
    return parts["The instruction to evaluate"], parts["Response to evaluate"], principle.text


def prometheus_items(data: Path, weight: float) -> list[LabelItem]:
    """MT-Bench and Vicuna-Bench: one item per question and rubric, GPT-4 mean scores.

    MT-Bench rows are second turns whose dialogue holds each model's own first answer, so the
    four responses share only the last user turn: that turn is the item's prompt.
    """
    items = []
    for name in ("mt_bench", "vicuna"):
        groups: dict[tuple[int, str], list[tuple[str, str, str, float]]] = defaultdict(list)
        for row in json.loads((data / "prometheus-eval" / f"{name}_eval.json").read_text()):
            prompt, response, principle = parse_prometheus(row["instruction"])
            score = sum(row["gpt4_score"]) / len(row["gpt4_score"])
            groups[(row["idx"], principle)].append((row["response_source"], prompt, response,
                                                    score))
        for (_, principle), rows in groups.items():
            prompts = {r[1] for r in rows}
            prompt = prompts.pop() if len(prompts) == 1 else \
                rows[0][1].rsplit("User:", 1)[-1].rsplit("Assistant:", 1)[0].strip()
            members = [(r[0], r[2], r[3]) for r in rows]
            items.append(LabelItem(
                principle=principle, principle_id=f"rubric:{name}", prompt=prompt,
                responses=tuple(m[1] for m in members), scores=tuple(m[2] for m in members),
                ids=tuple(m[0] for m in members), source=f"prometheus/{name}", weight=weight,
                scale=(1.0, 5.0)))
    return items


def hhh_items(data: Path) -> list[LabelItem]:
    """HHH alignment pairs (human labels), evaluation only."""
    items = []
    for row in json.loads((data / "prometheus-eval" / "hhh_alignment_eval.json").read_text()):
        prompt, chosen, principle = parse_prometheus(row["chosen_instruction"])
        _, rejected, _ = parse_prometheus(row["rejected_instruction"])
        items.append(LabelItem(principle=principle, principle_id=f"hhh:{row['source']}",
                               prompt=prompt, responses=(chosen, rejected), scores=(1.0, 0.0),
                               ids=("chosen", "rejected"), source="hhh"))
    return items


def _pair_acc(figures: dict[str, Any], kind: str) -> Any:
    return figures["rm_bench_pair_types"].get(kind, {}).get("pairwise_accuracy")


def pair_types(items: list[LabelItem], predicted: list[list[float]]) -> dict[str, Any]:
    """RM-Bench pairwise accuracy split by what separates the two responses."""
    groups: dict[str, Agreement] = defaultdict(Agreement)
    for it, pred in zip(items, predicted, strict=True):
        for i, j, _ in it.pairs():
            (ci, si), (cj, sj) = IDS[i].split("-"), IDS[j].split("-")
            kind = ("style (same correctness)" if ci == cj else
                    "correctness (same style)" if si == sj else "correctness (other style)")
            groups[kind].add([1.0, 0.0], [pred[i], pred[j]])
    return {k: v.as_dict() for k, v in sorted(groups.items())}


def flip_items(items: list[LabelItem], families: tuple[str, str],
               min_ratio: float = 1.0) -> list[LabelItem]:
    """The issue's flip test: the correct concise response against each correct detailed one
    under two families; with ``min_ratio`` > 1, only detailed responses at least that many times
    longer than the concise one (RM-Bench's code "concise" and "detailed" answers are sometimes
    the same length, or the same text)."""
    out = []
    for it in items:
        fam = it.principle_id.split(":", 1)[0] if ":" in it.principle_id else \
            {"correct-then-concise": "concise", "correct-then-thorough": "thorough"}.get(
                it.principle_id)
        if not it.source.startswith("rm-bench/") or fam not in families:
            continue
        keep = [0] + [j for j in (1, 2)
                      if len(it.responses[j]) >= min_ratio * len(it.responses[0])
                      and it.responses[j] != it.responses[0]]
        if len(keep) > 1:
            out.append(LabelItem(principle=it.principle, principle_id=fam, prompt=it.prompt,
                                 responses=tuple(it.responses[k] for k in keep),
                                 scores=tuple(it.scores[k] for k in keep),
                                 ids=tuple(it.ids[k] for k in keep), source=it.source))
    return out


def extra_evaluations(result: Any, embedder: Any, cache: EmbeddingCache,
                      data: Path, config: TrainConfig) -> tuple[dict[str, Any], list[str]]:
    """Flip rates (library and unseen wordings), pair types, unseen wordings, HHH."""
    net = result.net
    figures: dict[str, Any] = {}
    sections: list[str] = []

    def run(items: list[LabelItem]) -> tuple[list[list[float]], Any]:
        emb = embed_items(items, embedder, cache)
        return emb.scores(net)[0], emb

    test_rm = [it for it in result.test_items if it.source.startswith("rm-bench/")]
    library = [it for it in test_rm
               if it.principle_id in ("correct-then-concise", "correct-then-thorough")]
    heldout_all = rm_bench_items(data, "heldout")
    _, heldout = split_items(heldout_all, test_fraction=config.test_fraction,
                             seed=config.split_seed)
    for name, source in (("library", library), ("unseen_wording", heldout)):
        for suffix, ratio in (("", 1.0), ("_clear", CLEAR_RATIO)):
            flips = flip_items(source, ("concise", "thorough"), min_ratio=ratio)
            pred, _ = run(flips)
            figures[f"flip_{name}{suffix}"] = flip_rate(flips, pred).as_dict()
    pred, _ = run(test_rm)
    figures["rm_bench_pair_types"] = pair_types(test_rm, pred)
    pred, emb = run(heldout)
    unseen = report_for(heldout, pred, emb.cosine())
    figures["unseen_wordings"] = {"head": unseen["head"]["all"], "flip": unseen["flip"],
                                  "baselines": unseen["baselines"]}

    hhh = hhh_items(data)
    pred, emb = run(hhh)
    hhh_report = report_for(hhh, pred, emb.cosine())
    figures["hhh"] = {"head": hhh_report["head"], "baselines": hhh_report["baselines"]}

    sections += [
        "## Principle sensitivity (held-out prompts)", "",
        ("Among the three *correct* RM-Bench responses, the pairs (concise, detailed) and "
         "(concise, markdown) are ordered one way under a concise principle and the other way "
         "under a thorough one. The flip rate is the fraction of those pairs whose order the "
         "head flips when only the principle changes (length baselines score 0 by "
         "construction). Identical texts are left out; the *clear* column keeps only pairs "
         f"whose detailed response is at least {CLEAR_RATIO}x as long as the concise one "
         "(RM-Bench's code answers are often the same length in both styles)."),
        "", "| principles | flip rate (pairs) | flip rate, clear pairs (pairs) |",
        "|---|---|---|",
        *[f"| {label} | {figures['flip_' + key]['flip_rate']} "
          f"({figures['flip_' + key]['candidates']}) | {figures['flip_' + key + '_clear']['flip_rate']} "
          f"({figures['flip_' + key + '_clear']['candidates']}) |"
          for key, label in (("library", "correct-then-concise ↔ correct-then-thorough"),
                             ("unseen_wording", "unseen concise ↔ thorough wordings"))], "",
        "RM-Bench held-out pairwise accuracy by what separates the two responses:", "",
        "| pair type | pairwise accuracy | pairs |", "|---|---|---|",
        *[f"| {k} | {v['pairwise_accuracy']} | {v['pairs']} |"
          for k, v in figures["rm_bench_pair_types"].items()], "",
        (f"Style pairs are where the head is strong. Correctness pairs are much weaker "
         f"({_pair_acc(figures, 'correctness (same style)')} in the same style, "
         f"{_pair_acc(figures, 'correctness (other style)')} across styles), and most of that "
         "comes from safety-refuse, where the wrong answer complies with a harmful request: "
         "frozen sentence embeddings do not check facts or code."), "",
        report_markdown(unseen, title="Unseen principle wordings (held-out prompts)",
                        max_principles=12),
        report_markdown(hhh_report, title="HHH alignment (human labels, per-aspect rubric; "
                        "never trained on)", max_principles=8),
        (f"On these human-labelled pairs the head is at "
         f"{figures['hhh']['head']['all']['pairwise_accuracy']}, below the longer-wins "
         f"baseline ({figures['hhh']['baselines']['longer_wins']['pairwise_accuracy']}): its "
         "training principles are about style, plus a few hundred rubric-scored responses, and "
         "it does not transfer to honesty or harmlessness rubrics. Distil a head from your own "
         "judge's verdicts for such principles."), "",
    ]
    return figures, sections


DATA_SECTION = """## Training data

Read from `../shared/data` at training time; nothing is copied into the repository.

| source | what | licence |
|---|---|---|
| RM-Bench (THU-KEG/RM-Bench, commit 73c52d7; chat, code, safety-refuse, safety-response) | prompts with 3 correct + 3 subtly wrong responses in 3 styles; labelled here under principle score tables | ODC-By (Hugging Face dataset card; the GitHub repo states none). Liu et al., ICLR 2025, arXiv 2410.16184 |
| prometheus-eval MT-Bench and Vicuna-Bench sets (commit dcfb442) | instance rubrics, responses of 4 chat models, GPT-4 1-5 scores (mean of 3) | Apache-2.0 (repository); questions from LMSYS FastChat (Apache-2.0); rubrics and scores by Kim et al. 2023, arXiv 2310.08491; model responses under their models' terms |
| prometheus-eval HHH alignment pairs | human chosen/rejected per aspect; **evaluation only** | Apache-2.0 (BIG-bench hhh_alignment, Askell et al. 2021) |

Principle families used on RM-Bench (scores over concise / detailed / markdown; correct-first
adds a bonus above every style gap): concise 2/1/1, thorough 0/1/2, markdown 1/1/2 (all
correct-first), plain prose 1/1/0 (no correctness rule), correctness only. Each family has
library and free-text wordings; one more wording per family is held out to test phrasings the
head never saw (see `scripts/train_default_head.py`).
"""

INTRO = """The toolkit's default judge: `judge score` and `judge rank` use it when no backend is
given. It scores in milliseconds on a CPU and follows what a principle asks about *style*
(concise vs thorough, formatted vs plain; see the flip rates below); it does **not** verify
facts or code. Use a generative
judge (`--backend transformers:PATH`, `vllm:PATH`, `openai:URL#MODEL`) when correctness matters,
and distil your own head from its verdicts with `judge distill fit`."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--out", default=str(ROOT / "heads" / "default"))
    parser.add_argument("--cache-dir", default=str(ROOT / ".judge-cache"))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=48)
    parser.add_argument("--input-dropout", type=float, default=0.7)
    parser.add_argument("--prometheus-weight", type=float, default=20.0)
    parser.add_argument("--style-weight", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", choices=("float16", "float32"), default="float16")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    start = time.perf_counter()
    data = Path(args.data)
    rm_items = rm_bench_items(data, "train")
    items = rm_items + prometheus_items(data, args.prometheus_weight)
    if args.style_weight > 0:
        items += style_items(rm_items, args.style_weight)
    log.info("%d label items", len(items))
    embedder = load_embedder("minilm")
    cache = EmbeddingCache(args.cache_dir, embedder)
    config = TrainConfig(
        arch=HeadArch(kind="ensemble", members=args.members, hidden=args.hidden, member="mlp",
                      dropout=0.3, input_dropout=args.input_dropout),
        loss="bt", epochs=args.epochs, lr=2e-3, weight_decay=1e-2, batch_size=512,
        seed=args.seed, center_coef=0.01, min_margin=0.4, test_fraction=0.2, split_seed=0)
    command = "python scripts/train_default_head.py " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    result = fit_head(items, embedder, config, cache=cache, name="default",
                      command=command.strip())
    plain_test = [it for it in result.test_items if not it.source.startswith("style:")]
    test_data = embed_items(plain_test, embedder, cache)
    result.report = evaluate_embedded(test_data, result.net)
    result.test_items = plain_test
    result.config["metrics"]["held_out"] = result.report
    result.config["metrics"]["headline"] = headline_figures(result.report)
    figures, sections = extra_evaluations(result, embedder, cache, data, config)
    total = round(time.perf_counter() - start, 1)
    result.config["training"]["seconds"]["total"] = total
    result.config["metrics"]["extra"] = figures
    headline = result.config["metrics"]["headline"]
    for key in ("library", "library_clear", "unseen_wording", "unseen_wording_clear"):
        headline[f"principle_flip_rate_{key}"] = figures[f"flip_{key}"]["flip_rate"]
    headline["hhh_pairwise_accuracy"] = figures["hhh"]["head"]["all"]["pairwise_accuracy"]
    card = render_card(result.config, intro=INTRO, sections=[DATA_SECTION, *sections])
    head = result.save(args.out, card=card, overwrite=True, dtype=args.dtype)
    print(json.dumps({"out": args.out, "seconds": result.config["training"]["seconds"],
                      "headline": headline}, indent=2))
    log.info("saved %s (%s)", args.out, head.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
