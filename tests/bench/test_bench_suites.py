"""The committed sample suite and the suites built from shared data."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from judge.bench import rmbench
from judge.bench.items import CATEGORIES, DOMAINS
from judge.bench.suites import DATA_ENV, SAMPLE_PATH, data_dir, load_suite
from judge.errors import BenchmarkError, InputError
from judge.principles import default_library

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
needs_rm_bench = pytest.mark.skipif(not (SHARED / "rm-bench").is_dir(),
                                    reason=f"RM-Bench data not at {SHARED / 'rm-bench'}")
needs_prometheus = pytest.mark.skipif(not (SHARED / "prometheus-eval").is_dir(),
                                      reason=f"prometheus-eval data not at {SHARED}")


def test_sample_suite_covers_the_rabench_grid() -> None:
    suite = load_suite("sample")
    items = suite.items
    assert len(items) >= 24
    assert {it.category for it in items} == set(CATEGORIES)
    assert {it.domain for it in items} == set(DOMAINS)
    assert all(3 <= len(it.responses) <= 5 for it in items)
    lib = default_library()
    for it in items:
        if it.principle in lib.principles:      # category agrees with the library principle
            assert lib.principles[it.principle].category == it.category, it.id
        gold = it.gold()
        assert len(set(gold.values())) == len(gold), f"{it.id}: gold has ties"
        assert it.ranking == sorted(gold, key=lambda r: -gold[r])
    # the gold order is not the id order (a judge shown ids in order must not get it for free)
    in_id_order = sum(it.ranking == sorted(it.responses) for it in items)
    assert in_id_order <= len(items) // 3
    assert len({it.ranking[0] for it in items}) >= 3


def test_sample_ranks_the_same_responses_differently_under_different_principles() -> None:
    by_set: dict[str, list] = defaultdict(list)
    for it in load_suite("sample").items:
        by_set[it.metadata["response_set"]].append(it)
    shared = [group for group in by_set.values() if len(group) > 1]
    assert len(shared) >= 10
    for group in shared:
        assert len({it.prompt for it in group}) == 1
        assert len({tuple(it.ranking) for it in group}) == len(group), group[0].id


def test_sample_file_is_plain_jsonl_with_the_documented_fields() -> None:
    rows = [json.loads(line) for line in SAMPLE_PATH.read_text().splitlines()]
    assert all(set(r) <= {"id", "principle", "prompt", "responses", "scores", "ranking",
                          "category", "domain", "metadata"} for r in rows)


@needs_rm_bench
def test_rm_bench_suite_shape_and_gold() -> None:
    suite = load_suite("rm-bench", data=SHARED)
    items = suite.items
    assert len(items) >= 1500
    per_prompt = Counter((it.metadata["file"], it.metadata["upstream_id"]) for it in items)
    assert len(per_prompt) == 798 and min(per_prompt.values()) >= 2
    assert {it.domain for it in items} >= {"chat", "code", "safety"}
    for it in items:
        gold = it.gold()
        worst_chosen = min(v for r, v in gold.items() if r.startswith("chosen"))
        best_rejected = max(v for r, v in gold.items() if r.startswith("rejected"))
        assert worst_chosen > best_rejected
        assert len(set(it.responses.values())) == len(it.responses)   # duplicates dropped
    first = {it.metadata["principle_name"]: it.ranking for it in items[:3]}
    assert first["rmb-correct-then-concise"][:3] == [
        "chosen-concise", "chosen-detailed", "chosen-markdown"]
    assert first["rmb-correct-then-thorough"][:3] == [
        "chosen-markdown", "chosen-detailed", "chosen-concise"]
    assert first["rmb-correct-then-plain-prose"][:3] == [
        "chosen-detailed", "chosen-concise", "chosen-markdown"]
    assert load_suite("rm-bench", data=SHARED).version == suite.version


def test_rm_bench_duplicate_texts_are_dropped(tmp_path: Path) -> None:
    row = {"id": 1, "prompt": "q", "chosen": ["short", "long", "long"],
           "rejected": ["bad", "bad", "bad **md**"]}
    (tmp_path / "chat_filtered.json").write_text(json.dumps([row]))
    items = rmbench.build(tmp_path)
    assert len(items) == len(rmbench.principles())
    thorough = next(it for it in items if it.id.endswith("then-thorough"))
    assert thorough.ranking == ["chosen-detailed", "chosen-concise", "rejected-markdown",
                                "rejected-concise"]


def test_missing_data_names_flag_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    with pytest.raises(BenchmarkError, match=r"--data-dir.*JUDGE_DATA_DIR"):
        load_suite("rm-bench", data=tmp_path)
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(BenchmarkError, match=r"nowhere/rm-bench \(\$JUDGE_DATA_DIR\)"):
        data_dir()
    (tmp_path / "rm-bench").mkdir()
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    assert data_dir() == tmp_path
    with pytest.raises(BenchmarkError, match="no RM-Bench files"):
        load_suite("rm-bench")


@needs_prometheus
@pytest.mark.parametrize(("name", "lists", "k"), [("mt_bench", 80, 4), ("vicuna", 80, 4),
                                                   ("hhh", 221, 2)])
def test_prometheus_suites(name: str, lists: int, k: int) -> None:
    items = load_suite(f"prometheus:{name}", data=SHARED).items
    assert len(items) == lists and all(len(it.responses) == k for it in items)
    it = items[0]
    assert it.principle.startswith("[") and "Score 5:" in it.principle
    assert "###" not in it.prompt
    if name == "hhh":
        assert it.gold() == {"chosen": 2.0, "rejected": 1.0}
    else:
        raw = it.metadata["gpt4_scores"]
        assert it.gold() == {m: pytest.approx(sum(s) / 3) for m, s in raw.items()}
    if name == "mt_bench":      # each model's own first answer travels with its response
        assert all(r.startswith("[Its own earlier reply") for r in it.responses.values())


def test_pairwise_adapter(tmp_path: Path) -> None:
    rows = [
        {"prompt": "2+2?", "chosen": "4", "rejected": "5", "subset": "math-prm"},
        {"id": "m", "chosen": [{"role": "user", "content": "hi"},
                               {"role": "assistant", "content": "Hello!"}],
         "rejected": ["go away", "..."], "principle": "Prefer polite replies."},
    ]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    items = load_suite(f"pairwise:{path}", principle="correct-then-concise").items
    assert items[0].principle == "correct-then-concise" and items[0].domain == "math"
    assert items[0].gold() == {"chosen": 1.0, "rejected": 0.0}
    assert items[1].prompt == "User: hi" and items[1].principle == "Prefer polite replies."
    assert items[1].gold() == {"chosen": 1.0, "rejected-1": 0.0, "rejected-2": 0.0}
    path.write_text(json.dumps({"prompt": "q", "chosen": "a"}) + "\n")
    with pytest.raises(InputError, match=r"pairs.jsonl:1: field 'rejected': is required"):
        load_suite(f"pairwise:{path}")
