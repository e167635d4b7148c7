"""Card text of the shipped default head (used by train_default_head.py)."""

from __future__ import annotations

from typing import Any

INTRO = """The toolkit's default judge: `judge score` and `judge rank` use it when no backend is
given. It is distilled from a real judge: GPT-4-turbo's pairwise verdicts in AlpacaEval 2.0,
kept as the judge's probabilities (soft Bradley-Terry targets), plus principle-contrast pairs
from RM-Bench so that it swaps its order when the principle swaps. It scores in milliseconds on
a CPU. It does **not** verify facts or code, and it knows where it was trained: a principle far
from its training principles is flagged `principle_out_of_distribution` (use an LLM judge
backend then: `--backend transformers:PATH`, `vllm:PATH`, `openai:URL#MODEL`), a response longer
than it reads is flagged `truncated`, an empty one `empty_response`.

**Input limit.** Each text is read in windows of 256 word pieces, at most 8 per text (about
2,000 word pieces, roughly 8,000 characters of English), pooled by token-weighted mean. Past
that the rest is not read and the verdict carries the flag `truncated` with the response index;
responses are cut at 65,536 characters before tokenising, so a 10 MB response is flagged as fast
as a long one."""

DATA_SECTION = """## Training data and split

Read from `../shared/data` at training time; nothing is copied into the repository.

| source | what | licence |
|---|---|---|
| AlpacaEval judge annotations (tatsu-lab/alpaca_eval, commit cd543a1) | GPT-4-turbo (`weighted_alpaca_eval_gpt4_turbo`) pairwise preferences as probabilities (read from its logprobs), each evaluated answer set vs the gpt4_1106_preview baseline, 805 instructions | Apache-2.0 (repository); instructions CC-BY-NC-4.0; responses under their models' terms: research use |
| RM-Bench (THU-KEG/RM-Bench, commit 73c52d7) | prompts with 3 correct + 3 subtly wrong responses in 3 styles; ordered here under principle families | ODC-By (Hugging Face dataset card). Liu et al., ICLR 2025, arXiv 2410.16184 |
| prometheus-eval MT-Bench and Vicuna-Bench (commit dcfb442) | instance rubrics, GPT-4 1-5 scores (mean of 3) | Apache-2.0; Kim et al. 2023, arXiv 2310.08491 |
| prometheus-eval HHH alignment pairs | human chosen/rejected per aspect; **evaluation only** | Apache-2.0 (BIG-bench hhh_alignment) |

The AlpacaEval verdicts go through `judge distill import` (importer -> label records with the
teacher in provenance -> the distillation reader), the path any user's imported judge takes.
**Split by answer set:** the test answer sets are whole policies the head never saw (their
responses never trained; the baseline's responses and the instructions are shared by every
set). Settings were chosen on a validation answer set carved from the training pool
(`--validate`), never on the test sets. RM-Bench and Prometheus are split by prompt (80/20).

Principle families on RM-Bench (scores over concise / detailed / markdown; correct-first adds
a bonus above every style gap): concise 2/1/1, thorough 0/1/2, markdown 1/1/2 (all
correct-first), plain prose 1/1/0, correctness only. One wording per family is never trained
on and measures phrasings the head never saw."""


def _f(x: Any) -> str:
    return "–" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x))


def must_show_section(figs: dict[str, Any], test_sets: tuple[str, ...]) -> str:
    """The issue's targets next to what was measured, with both length baselines."""
    rows = ["## Measured against the targets", "",
            "| figure | head | longer wins | shorter wins | pairs | target |",
            "|---|---|---|---|---|---|"]
    for name, v in figs["alpaca"]["by_answer_set"].items():
        if name in test_sets:
            rows.append(f"| held-out answer set {name}: agreement with GPT-4-turbo | "
                        f"{_f(v['head'])} | {_f(v['longer_wins'])} | {_f(v['shorter_wins'])} | "
                        f"{v['pairs']} | ≥ longer wins + 0.05 |")
    alp = figs["alpaca"]
    rows.append(f"| all held-out answer sets | {_f(alp['head']['all']['pairwise_accuracy'])} | "
                f"{_f(alp['baselines']['longer_wins']['pairwise_accuracy'])} | "
                f"{_f(alp['baselines']['shorter_wins']['pairwise_accuracy'])} | "
                f"{alp['head']['all']['pairs']} | |")
    short = alp["length"]["better_is_shorter"]
    rows.append(f"| held-out answer sets, pairs whose better answer is shorter | "
                f"{_f(short['pairwise_accuracy'])} | 0.000 | 1.000 | {short['pairs']} | |")
    for key, label in (("hard_cells_factual_accuracy", "principle factual-accuracy"),
                       ("hard_cells_alpaca_principle", "the AlpacaEval principle")):
        hard, normal, easy = (figs[key][c] for c in ("hard", "normal", "easy"))
        rows.append(f"| RM-Bench hard cells (correct answer plainer than the wrong one), "
                    f"{label} | {_f(hard['pairwise_accuracy'])} | – | – | {hard['pairs']} | "
                    "≥ 0.6 |")
        rows.append(f"| RM-Bench normal / easy cells (same style / correct answer richer), "
                    f"{label} | {_f(normal['pairwise_accuracy'])} / "
                    f"{_f(easy['pairwise_accuracy'])} | – | – | {normal['pairs']} | |")
    for key, label in (("flip_unseen_wording", "unseen concise ↔ thorough wordings"),
                       ("flip_library", "library correct-then-concise ↔ correct-then-thorough")):
        f = figs[key]
        rows.append(f"| principle flip rate, {label} | {_f(f['flip_rate'])} | 0 | 0 | "
                    f"{f['candidates']} | ≥ 0.9 |")
    hhh = figs["hhh"]
    rows.append(f"| HHH human pairs (never trained on) | "
                f"{_f(hhh['head']['all']['pairwise_accuracy'])} | "
                f"{_f(hhh['baselines']['longer_wins']['pairwise_accuracy'])} | "
                f"{_f(hhh['baselines']['shorter_wins']['pairwise_accuracy'])} | "
                f"{hhh['head']['all']['pairs']} | |")
    soft = alp["soft"]
    ood = figs["in_distribution"]
    soft_line = (f"Soft agreement with the teacher's probabilities on the held-out answer sets: "
                 f"Pearson {_f(soft['pearson'])}, Brier {_f(soft['brier'])}, expected "
                 f"calibration error {_f(soft['ece'])} (plot: `calibration.png`).")
    seen = ", ".join(_f(v) for v in ood["unseen_wordings"].values())
    far = "; ".join(f"\"{k}\" {_f(v)}" for k, v in ood["far_principles"].items())
    ood_line = (f"In-distribution flag: cosine to the nearest training principle below "
                f"{_f(ood['threshold'])} is flagged. Unseen wordings of trained families score "
                f"{seen}; principles nothing was trained near ({far}): {ood['far_flagged']} of "
                f"{len(ood['far_principles'])} flagged.")
    cells = figs["hard_cells_factual_accuracy"]
    style_line = ("Read the RM-Bench cells together: a head that prefers the plainer answer "
                  "whatever its correctness scores high on hard cells and low on easy ones. "
                  f"Here hard {_f(cells['hard']['pairwise_accuracy'])}, normal "
                  f"{_f(cells['normal']['pairwise_accuracy'])}, easy "
                  f"{_f(cells['easy']['pairwise_accuracy'])}: mostly a style preference under "
                  "this principle, not a fact check.")
    rows += ["", soft_line, "", style_line, "", ood_line, ""]
    return "\n".join(rows)
