"""``Judge(pointwise=True)`` / ``--pointwise``: a list judged one response at a time."""

from __future__ import annotations

import json
import math

import pytest
from test_judge import QUALITY, RESPONSES, honest_judge, shown

from judge import Judge, ScriptedBackend
from judge.errors import ConfigError
from judge.types import Generation, GenerationRequest, TokenLogprob


def test_each_response_is_one_request_and_the_ranking_follows_the_scores() -> None:
    backend = ScriptedBackend(honest_judge)
    v = Judge(backend, principle="correct-then-concise", pointwise=True).rank_one(
        prompt="q", responses=RESPONSES)
    assert len(backend.requests) == 3
    assert sorted(shown(r)["response"] for r in backend.requests) == sorted(RESPONSES.values())
    assert v.mode == "pointwise" and v.status == "ok" and v.runs == 3
    assert v.scores == {c: QUALITY[t] for c, t in RESPONSES.items()}
    assert v.ranking == ["a", "b", "c"] and v.provenance.order == [["a"], ["b"], ["c"]]
    assert v.provenance.template == "pointwise"


def test_one_unscorable_response_leaves_the_list_unranked() -> None:
    def fails_on_bravo(request: GenerationRequest) -> str:
        return "I cannot say." if shown(request)["response"] == "bravo answer" else \
            honest_judge(request)

    v = Judge(ScriptedBackend(fails_on_bravo), principle="correct-then-concise",
              pointwise=True).rank_one(prompt="q", responses=RESPONSES)
    assert v.status == "unparsed" and v.scores is None and v.ranking is None
    assert any("1 of 3 responses have no usable score (b unparsed)" in p for p in v.problems)
    assert v.parsed_runs == 2


def test_permutations_do_not_apply() -> None:
    with pytest.raises(ConfigError, match="--permutations does not apply to --pointwise"):
        Judge(ScriptedBackend(honest_judge), principle="correct-then-concise", pointwise=True,
              permutations=2)


def test_bench_both_orders_scores_a_pointwise_list_once(tmp_path) -> None:
    from judge.bench.published.orders import judge_both_orders
    from judge.bench.suites import load_suite

    suite = tmp_path / "pairs.jsonl"
    suite.write_text("".join(json.dumps({"prompt": f"q{n}", "chosen": "alpha answer",
                                         "rejected": "bravo answer"}) + "\n" for n in range(3)))
    items = load_suite(f"pairwise:{suite}").items
    backend = ScriptedBackend(lambda r: json.dumps({"score": 3}))    # every answer ties
    judge = Judge(backend, principle="correct-then-concise", pointwise=True)
    got: list = []
    judge_both_orders(judge, items, lambda n, entries, j: got.append(entries))
    assert len(backend.requests) == 6                      # 3 lists x 2 answers, once each
    for first, second in got:                              # a tie cannot pose as position bias
        assert first["ranking"] == second["ranking"] and second["scored_once"]


def test_bench_runs_from_before_the_option_keep_their_config_hash() -> None:
    from judge.hashing import json_hash

    config = Judge(ScriptedBackend(honest_judge), principle="correct-then-concise").config()
    before = {k: v for k, v in config.model_dump(mode="json").items() if k != "pointwise"}
    assert config.identity() == before and config.fingerprint() == json_hash(before)


def _with_logprobs(score: int, dist: dict[str, float]) -> Generation:
    text = json.dumps({"score": score})
    at = text.index(str(score))
    tokens = [TokenLogprob(token=text[:at], logprob=0.0, top={}),
              TokenLogprob(token=str(score), logprob=math.log(dist[str(score)]),
                           top={k: math.log(p) for k, p in dist.items()}),
              TokenLogprob(token=text[at + 1:], logprob=0.0, top={})]
    return Generation(text=text, logprobs=tokens)


def test_score_ties_are_broken_by_logprob_weighted_scores() -> None:
    # Both answers get a sampled 4; the first's distribution leans to 3, the second's to 5.
    gens = [_with_logprobs(4, {"4": 0.5, "3": 0.45, "5": 0.05}),
            _with_logprobs(4, {"4": 0.5, "5": 0.45, "3": 0.05})]
    v = Judge(ScriptedBackend(gens), principle="correct-then-concise", pointwise=True).rank_one(
        prompt="q", responses={"x": "first", "y": "second"})
    assert v.scores == {"x": 4.0, "y": 4.0}
    assert v.logprob_scores is not None and v.logprob_scores["y"] > v.logprob_scores["x"]
    assert v.ranking == ["y", "x"]


def test_pointwise_changes_the_fingerprint_and_compare_refuses_it() -> None:
    plain = Judge(ScriptedBackend(honest_judge), principle="correct-then-concise")
    each = Judge(ScriptedBackend(honest_judge), principle="correct-then-concise", pointwise=True)
    assert plain.fingerprint() != each.fingerprint()
    assert "pointwise" not in plain.config().model_dump(exclude_defaults=True)
    with pytest.raises(ConfigError, match="pointwise=True does not apply"):
        each.compare([{"prompt": "q", "responses": ["a", "b"]}])


def test_the_head_refuses_pointwise() -> None:
    with pytest.raises(ConfigError, match="pointwise"):
        Judge("head", pointwise=True)


def test_cli_rank_and_label_pointwise(tmp_path, capsys) -> None:
    from judge.cli import main

    rows = [{"id": "r1", "prompt": "q", "responses": ["weak", "strong", "middling"]}]
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps(rows[0]) + "\n")
    replies = tmp_path / "replies.jsonl"
    replies.write_text("".join(json.dumps(json.dumps({"score": s})) + "\n" for s in (1, 5, 3)))
    for command in ("rank", "label"):
        out = tmp_path / f"{command}.jsonl"
        code = main([command, "-i", str(inp), "-o", str(out), "--backend", f"scripted:{replies}",
                     "--principle", "correct-then-concise", "--pointwise", "--no-shuffle"])
        assert code == 0, capsys.readouterr().err
        (got,) = [json.loads(line) for line in out.read_text().splitlines()]
        assert got["status"] == "ok" and got["mode"] == "pointwise"
        assert got["ranking"] == ["1", "2", "0"] and got["runs"] == 3
    assert main(["compare", "--prompt", "q", "--response", "a", "--response", "b",
                 "--backend", f"scripted:{replies}", "--principle", "correct-then-concise",
                 "--pointwise"]) == 2
    assert "--pointwise does not apply to compare" in capsys.readouterr().err
    assert main(["rank", "-i", str(inp), "--backend", "head", "--pointwise"]) == 2
    assert "--pointwise" in capsys.readouterr().err


def test_distill_labels_take_the_logprob_weighted_scores(tmp_path) -> None:
    from judge.distill.labels import read_labels
    from judge.items import coerce_item
    from judge.record import make_record

    gens = [_with_logprobs(4, {"4": 0.5, "3": 0.45, "5": 0.05}),
            _with_logprobs(4, {"4": 0.5, "5": 0.45, "3": 0.05})]
    judge = Judge(ScriptedBackend(gens), principle="correct-then-concise", pointwise=True)
    raw = {"prompt": "q", "responses": {"x": "first", "y": "second"}}
    (v,) = judge.rank([raw])
    record = make_record(coerce_item(raw), v, judge.principle)
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps(record) + "\n")
    (item,) = read_labels([path]).items
    assert v.logprob_scores is not None
    assert item.scores == (v.logprob_scores["x"], v.logprob_scores["y"])
    assert item.pairs() == [(1, 0, pytest.approx(0.8))]   # sampled 4 vs 4 would be a tie
