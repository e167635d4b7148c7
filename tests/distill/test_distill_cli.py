"""`judge distill fit` + `eval` end to end: on `judge rank` output and on a gold suite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.distill_data import make_items

from judge.cli import main


def rows_and_replies(n_prompts: int) -> tuple[list[dict[str, object]], list[str]]:
    """Rank input rows and the scripted judge's verdicts for them (shown in the given order)."""
    rows, replies = [], []
    for it in make_items(n_prompts, seed=3):
        rows.append({"prompt": it.prompt, "responses": list(it.responses),
                     "principle": it.principle})
        scores = {f"model-{k + 1}": 5 if s == max(it.scores) else 1
                  for k, s in enumerate(it.scores)}
        order = sorted(scores, key=lambda m: -scores[m])
        replies.append(json.dumps({"scores": scores, "best-to-worst": order}))
    replies[5] = "I cannot decide."  # one unparsable verdict
    return rows, replies


def test_fit_and_eval_on_rank_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows, replies = rows_and_replies(50)
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "replies.jsonl").write_text("".join(json.dumps(r) + "\n" for r in replies))
    ranked = tmp_path / "ranked.jsonl"
    code = main(["rank", "-i", str(tmp_path / "in.jsonl"), "-o", str(ranked),
                 "--backend", f"scripted:{tmp_path / 'replies.jsonl'}", "--no-shuffle"])
    assert code == 3  # one verdict was unparsed
    capsys.readouterr()

    head, cache = tmp_path / "head", tmp_path / "cache"
    common = ["--cache-dir", str(cache)]
    code = main(["distill", "fit", "--labels", str(ranked), "--out", str(head), "--embedder",
                 "hash:64", "--epochs", "10", "--json", str(tmp_path / "fit.json"), *common])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "skipped unparsed=1" in out.err and "99 items read" in out.err
    assert "Held-out prompts" in out.out and "longer wins" in out.out
    fit = json.loads((tmp_path / "fit.json").read_text())
    assert fit["report"]["head"]["all"]["pairwise_accuracy"] > 0.9
    assert fit["training"]["skipped_rows"] == {"unparsed": 1}
    assert sorted(p.name for p in head.iterdir()) == ["README.md", "config.json",
                                                      "weights.safetensors"]
    assert any(cache.rglob("*.sqlite"))

    code = main(["distill", "eval", "--head", str(head), "--labels", str(ranked),
                 "--json", str(tmp_path / "eval.json"), *common])
    out = capsys.readouterr()
    assert code == 0, out.err
    ev = json.loads((tmp_path / "eval.json").read_text())
    assert ev["report"]["head"] == fit["report"]["head"]  # same split, same numbers
    assert {"longer_wins", "shorter_wins", "prompt_cosine"} <= set(ev["report"]["baselines"])
    assert "Principle-flip rate" in out.out

    assert main(["distill", "fit", "--labels", str(ranked), "--out", str(head), "--embedder",
                 "hash:64", *common]) == 2  # refuses to overwrite without --force
    assert "--force" in capsys.readouterr().err


def test_fit_and_eval_on_a_gold_suite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite = tmp_path / "suite.jsonl"
    lines = []
    for n, it in enumerate(make_items(40, seed=4)):
        lines.append({"id": f"item-{n}", "principle": it.principle, "prompt": it.prompt,
                      "responses": {"s": it.responses[0], "l": it.responses[1]},
                      "scores": {"s": 4 * it.scores[0] + 1, "l": 4 * it.scores[1] + 1},
                      "category": "style", "domain": "chat"})
    suite.write_text("".join(json.dumps(x) + "\n" for x in lines))
    head = tmp_path / "head"
    code = main(["distill", "fit", "--labels", f"suite:{suite}", "--out", str(head),
                 "--embedder", "hash:64", "--loss", "regression", "--arch", "linear",
                 "--epochs", "30", "--no-cache"])
    out = capsys.readouterr()
    assert code == 0, out.err
    code = main(["distill", "eval", "--head", str(head), "--labels", str(suite), "--split",
                 "all", "--no-cache", "--json", str(tmp_path / "e.json")])
    assert code == 0
    report = json.loads((tmp_path / "e.json").read_text())["report"]
    assert report["items"] == 80 and report["head"]["all"]["pairwise_accuracy"] > 0.8
    config = json.loads((head / "config.json").read_text())
    assert config["score"]["loss"] == "regression" and config["score"]["target_std"] > 0


def test_fit_reports_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "q"}\nnot json\n')
    code = main(["distill", "fit", "--labels", str(bad), "--out", str(tmp_path / "h"),
                 "--embedder", "hash:16", "--no-cache"])
    err = capsys.readouterr().err
    assert code == 2 and "no usable label rows" in err and "bad.jsonl:2" in err
    code = main(["distill", "eval", "--head", str(tmp_path / "nowhere"), "--labels", str(bad)])
    assert code == 2 and "config.json is missing" in capsys.readouterr().err


def test_fit_with_the_last_token_embedder(tiny_model_dir: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    suite = tmp_path / "pairs.jsonl"
    suite.write_text("".join(
        json.dumps({"prompt": it.prompt, "principle": it.principle, "chosen": it.responses[0],
                    "rejected": it.responses[1]}) + "\n"
        for it in make_items(12, seed=5) if it.scores[0] > it.scores[1]))
    head = tmp_path / "head"
    code = main(["distill", "fit", "--labels", str(suite), "--out", str(head), "--embedder",
                 f"last-token:{tiny_model_dir}", "--epochs", "2", "--no-cache"])
    assert code == 0, capsys.readouterr().err
    from judge.distill.head import load_head

    loaded = load_head(head)
    assert loaded.config.embedder.input_format["long_text"] == "truncate-left"
    assert len(loaded.score("Be brief.", "q", ["a", "b", "c"])) == 3
