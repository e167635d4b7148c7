"""The shipped default head: the README's main-job command, principle sensitivity, the backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from judge.cli import main

CONCISE = "Paris."
DETAILED = (
    "The capital of France is **Paris**.\n\n"
    "## Some background\n\n"
    "- Paris has been the capital for most of French history, since the Capetian kings made it "
    "their seat in the late 10th century.\n"
    "- It is the country's largest city, with about 2.1 million people in the city proper and "
    "over 12 million in the metropolitan area.\n"
    "- It hosts the national government: the Élysée Palace (the president), the National "
    "Assembly and the Senate.\n\n"
    "## Why it matters\n\n"
    "Paris is France's economic and cultural centre, home to institutions such as the Louvre "
    "and the Sorbonne, and a major transport hub for Europe."
)
PROMPT = "What is the capital of France?"


def _item(principle: str, responses: list[str]) -> Any:
    """An item as the scoring protocol takes it: the principle resolved."""
    from judge.items import Item
    from judge.principles import resolve_principle

    return Item(prompt=PROMPT, responses=responses, principle=resolve_principle(principle))


@pytest.fixture(scope="module")
def shipped(minilm):  # type: ignore[no-untyped-def]
    from judge.distill.backend import create, default_head_dir

    folder = default_head_dir()
    assert (folder / "weights.safetensors").stat().st_size < 5_000_000
    return create("")


def test_default_head_is_found_and_documented(shipped) -> None:  # type: ignore[no-untyped-def]
    from judge.distill.backend import default_head_dir

    folder = default_head_dir()
    config = json.loads((folder / "config.json").read_text())
    card = (folder / "README.md").read_text()
    headline = config["metrics"]["headline"]
    for key in ("held_out_pairwise_accuracy", "principle_flip_rate_library",
                "baseline_longer_wins", "baseline_shorter_wins", "baseline_prompt_cosine"):
        assert isinstance(headline[key], float), key
        assert key.replace("_", " ") in card
    assert "RM-Bench" in card and "ODC-By" in card and "Apache-2.0" in card
    assert "scripts/train_default_head.py" in card
    assert shipped.name == "head" and shipped.model == "default"


def test_card_reports_the_teacher_the_split_and_both_length_baselines() -> None:
    from judge.distill.backend import default_head_dir

    folder = default_head_dir()
    config = json.loads((folder / "config.json").read_text())
    card = (folder / "README.md").read_text()
    assert "weighted_alpaca_eval_gpt4_turbo" in card and "answer set" in card
    held = config["training"]["split"]["test_answer_sets"]
    by_set = config["metrics"]["extra"]["alpaca"]["by_answer_set"]
    assert held and set(held) <= set(by_set)
    for name in held:  # every held-out figure is in the card next to both baselines
        fig = by_set[name]
        row = next(line for line in card.splitlines() if f"held-out answer set {name}:" in line)
        for key in ("head", "longer_wins", "shorter_wins"):
            assert f"{fig[key]:.3f}" in row
    assert (folder / "calibration.png").read_bytes()[:4] == b"\x89PNG"


def test_the_flag_agrees_with_the_card(shipped) -> None:  # type: ignore[no-untyped-def]
    from judge.distill.backend import default_head_dir
    from judge.distill.head import PRINCIPLE_OOD, TRUNCATED

    config = json.loads((default_head_dir() / "config.json").read_text())
    ood = config["metrics"]["extra"]["in_distribution"]
    texts = {**ood["unseen_wordings"], **ood["far_principles"]}
    results = shipped.score_batch_detailed([_item(t, [CONCISE]) for t in texts])
    for (text, sim), res in zip(texts.items(), results, strict=True):
        assert (PRINCIPLE_OOD in res.flags) == (sim < ood["threshold"]), text
    long_ = shipped.score_batch_detailed([_item("correct-then-concise",
                                                [CONCISE, "word " * 20_000])])[0]
    assert TRUNCATED in long_.flags and len(long_.scores) == 2


@pytest.mark.parametrize("concise_id", ["correct-then-concise",
                                        "Keep answers as short as possible."])
def test_preference_flips_with_the_principle(shipped, concise_id: str) -> None:  # type: ignore[no-untyped-def]

    thorough = "correct-then-thorough" if concise_id.endswith("concise") else \
        "Give thorough, detailed answers with explanations."
    (c_short, c_long), (t_short, t_long) = shipped.score_batch([
        _item(concise_id, [CONCISE, DETAILED]), _item(thorough, [CONCISE, DETAILED])])
    assert c_short > c_long and t_long > t_short


def test_main_job_command(minilm, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    code = main(["score", "--principle", "Prefer concise answers.", "--prompt", PROMPT,
                 "--response", CONCISE, "--json"])
    out = capsys.readouterr().out
    assert code == 0
    verdict = json.loads(out)
    assert verdict["backend"] == "head" and verdict["status"] == "ok"
    assert isinstance(verdict["scores"]["0"], float)


def test_rank_with_the_default_backend(minilm, tmp_path: Path,  # type: ignore[no-untyped-def]
                                       capsys: pytest.CaptureFixture[str]) -> None:
    rows = [{"id": "a", "prompt": PROMPT, "responses": {"short": CONCISE, "long": DETAILED},
             "principle": "correct-then-concise"},
            {"id": "b", "prompt": PROMPT, "responses": {"short": CONCISE, "long": DETAILED},
             "principle": "correct-then-thorough"}]
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["rank", "-i", str(inp), "-o", str(tmp_path / "out.jsonl")]) == 0
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert out[0]["ranking"] == ["short", "long"] and out[1]["ranking"] == ["long", "short"]
    assert out[0]["scale"] is None and out[0]["provenance"]["backend"] == "head"
