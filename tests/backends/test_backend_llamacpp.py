"""The HTTP backend and the ``launch=llama.cpp`` preset against a real llama-cpp-python server.

The tiny test model is converted to GGUF with llama.cpp's own converter (vendored in the
llama-cpp-python sdist; scripts/test-llamacpp.sh unpacks it and sets LLAMACPP_CONVERTER_DIR).
Run with ``scripts/test-llamacpp.sh``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from judge.assets import asset_dir
from judge.backends import load_backend
from judge.backends.http.launcher import LocalServer, server_command
from judge.core import Judge
from judge.types import ChatMessage, GenerationRequest, Sampling
from judge.verdict.schema import verdict_schema

pytestmark = pytest.mark.llamacpp
pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is not installed "
                    "(run scripts/test-llamacpp.sh, which builds .venv-llamacpp)")

MODEL = "tiny"
SERVER_ARGS = ["--n_ctx", "4096", "--n_threads", "2"]

# The converter does not recognise the tiny tokenizer's pre-tokenizer by its hash. transformers
# loads it as a Qwen2Tokenizer (Qwen2's split regex), so "qwen2" makes llama.cpp tokenize alike.
_CONVERT = """
import runpy, sys
converter, model, out = sys.argv[1:4]
sys.path.insert(0, converter)
import conversion.base as base
base.TextModel.get_vocab_base_pre = lambda self, tokenizer: "qwen2"
sys.argv = [converter + "/convert_hf_to_gguf.py", model, "--outfile", out, "--outtype", "f32"]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.fixture(scope="module")
def gguf_model(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model as an f32 GGUF file (about 0.4 MB, a few seconds)."""
    converter = Path(os.environ.get("LLAMACPP_CONVERTER_DIR", "/nonexistent"))
    if not (converter / "convert_hf_to_gguf.py").is_file():
        pytest.skip("LLAMACPP_CONVERTER_DIR does not hold llama.cpp's convert_hf_to_gguf.py "
                    "(run scripts/test-llamacpp.sh)")
    out = tmp_path_factory.mktemp("gguf") / "tiny.gguf"
    done = subprocess.run([sys.executable, "-c", _CONVERT, str(converter), str(tiny_model_dir),
                           str(out)], check=False, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0 and out.is_file(), done.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def server(gguf_model: Path):
    """``python -m llama_cpp.server`` (the launcher's preset command) on a free port."""
    command, ready = server_command("llama.cpp", str(gguf_model),
                                    extra_args=["--model_alias", MODEL, *SERVER_ARGS])
    with LocalServer(command, ready_path=ready, timeout=120) as srv:
        yield srv


@pytest.fixture
def url(server: LocalServer) -> str:
    return f"openai:{server.base_url}#{MODEL}"


def chat(text: str, **sampling: object) -> GenerationRequest:
    return GenerationRequest(messages=(ChatMessage(role="user", content=text),),
                             sampling=Sampling(**{"max_tokens": 16, **sampling}))


def items(n: int) -> list[dict[str, object]]:
    return [{"id": f"q{i}", "prompt": f"What is {i} times 7?",
             "responses": [f"It is {i * 7 + d}." for d in range(1 + i % 3)]} for i in range(n)]


def test_generation_keeps_order_and_counts_tokens(url, tiny_tokenizer):
    backend = load_backend(url, max_concurrency=3)
    prompts = ["short", "a longer prompt " * 5, "x " * 30, "What is 12 times 7?"]
    out = backend.generate([chat(p) for p in prompts])
    backend.close()
    for p, gen in zip(prompts, out, strict=True):
        assert gen.error is None, gen.error
        assert gen.finish_reason in ("stop", "length")
        text = tiny_tokenizer.apply_chat_template([{"role": "user", "content": p}],
                                                  add_generation_prompt=True, tokenize=False)
        assert gen.usage.prompt_tokens == len(tiny_tokenizer(text, add_special_tokens=False)
                                              ["input_ids"])
        assert 0 < gen.usage.completion_tokens <= 16


def test_too_long_prompt_is_an_item_error_without_retries(url):
    backend = load_backend(url, max_retries=3)
    waits: list[float] = []
    backend._sleep = waits.append  # type: ignore[attr-defined]
    out = backend.generate([chat("ok"), chat("long " * 5000), chat("fine")])
    backend.close()
    assert out[1].error is not None and "HTTP 400" in out[1].error
    assert "maximum context length is 4096" in out[1].error
    assert out[0].error is None and out[2].error is None and waits == []


def test_judge_rank_keeps_every_item_in_order(url):
    judge = Judge(url, principle="correct-then-concise", sampling=Sampling(max_tokens=32),
                  backend_options={"max_concurrency": 4})
    out = judge.rank(items(6))
    judge.close()
    assert [j.item_id for j in out] == [f"q{i}" for i in range(6)]
    assert all(j.status in ("ok", "repaired", "unparsed") for j in out)   # no backend_error
    assert all(j.raw for j in out)


def test_judge_rank_command_line(url, tmp_path):
    rows = tmp_path / "in.jsonl"
    rows.write_text("".join(json.dumps(r) + "\n" for r in items(4)), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "judge", "rank", "-i", str(rows), "-o", str(tmp_path / "out.jsonl"),
         "--backend", url, "--principle", "correct-then-concise", "--max-tokens", "32",
         "-B", "max_concurrency=2"], check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 3), done.stderr[-2000:]   # 3: some verdict was unparsed
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in out] == [f"q{i}" for i in range(4)]
    assert all(r["status"] in ("ok", "repaired", "unparsed") for r in out)
    assert "4 rows:" in done.stderr


def _conforms(value: object, schema: dict, *, bounds: bool = True) -> bool:
    """Whether a verdict matches the subset of JSON schema that verdict schemas use."""
    if "enum" in schema:
        return value in schema["enum"]
    kind = schema.get("type")
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool) and (
            not bounds or schema["minimum"] <= value <= schema["maximum"])
    if kind == "array":
        return isinstance(value, list) and all(_conforms(v, schema["items"]) for v in value) \
            and schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value))
    assert kind == "object"
    props = schema["properties"]
    return isinstance(value, dict) and set(schema["required"]) <= set(value) <= set(props) \
        and all(_conforms(v, props[k], bounds=bounds) for k, v in value.items())


def _schema_of(j) -> dict:
    masked = [f"model-{n}" for n in range(1, len(j.ids) + 1)]
    lo, hi = j.scale
    return verdict_schema("score" if len(j.ids) == 1 else "scores-ranking", masked,
                          (int(lo), int(hi)))


def test_structured_verdicts_follow_the_schema_including_score_bounds(url):
    """The 1-5 scale goes out as an enum, so llama.cpp keeps every score on the scale, and a
    ranking of up to 5 ids as the enum of its permutations, so no id repeats: every verdict
    parses (a random model's scores may still contradict its ranking: ``inconsistent``)."""
    judge = Judge(url, principle="correct-then-concise", structured=True,
                  sampling=Sampling(max_tokens=160, temperature=1.0, seed=0),
                  backend_options={"structured": "json_object", "max_concurrency": 4})
    five = {"id": "q8", "prompt": "Name a prime.", "responses": ["2", "3", "5", "7", "11"]}
    rank_out = judge.rank([*items(8), five])
    score_out = judge.score([{"id": f"s{i}", "prompt": f"{i}+{i}?", "responses": [str(2 * i)]}
                             for i in range(8)])
    judge.close()
    assert [j.item_id for j in rank_out] == [f"q{i}" for i in range(9)]
    for j in [*rank_out, *score_out]:
        assert _conforms(json.loads(j.raw), _schema_of(j)), j.raw
        if j.status == "inconsistent":   # parsed, but the scores contradict the ranking
            assert "ranking_contradicts_scores" in j.flags and j.scores is None, j.raw
            continue
        assert j.status in ("ok", "repaired") and j.scores is not None, (j.problems, j.raw)
        if j.ranking is not None:
            assert sorted(j.ranking) == sorted(j.ids)


def test_unenforced_bounds_reach_the_parser_and_are_unparsed(url, tmp_path):
    """A scale too wide for an enum (1-1000) is sent with minimum/maximum, which llama.cpp does
    not enforce: the tiny model then writes scores such as 8000000000000000, and the parser
    refuses them (status unparsed, scores None, a problem naming the scale), never clamps."""
    wide = tmp_path / "wide"
    shutil.copytree(asset_dir("prompts") / "pointwise", wide)
    meta = wide / "template.yaml"
    meta.write_text(meta.read_text().replace("scale: [1, 5]", "scale: [1, 1000]"))
    judge = Judge(url, principle="Be correct.", structured=True, template="wide",
                  templates_dir=tmp_path, sampling=Sampling(max_tokens=48),
                  backend_options={"structured": "json_object"})
    out = judge.score([{"id": f"s{i}", "prompt": f"{i}+{i}?", "responses": [str(2 * i)]}
                       for i in range(6)])
    judge.close()
    outside = 0
    for j in out:
        assert j.scale == (1, 1000)
        schema = _schema_of(j)
        assert _conforms(json.loads(j.raw), schema, bounds=False), j.raw   # the structure holds
        if _conforms(json.loads(j.raw), schema):
            assert j.status == "ok", (j.problems, j.raw)
        else:
            outside += 1
            assert j.status == "unparsed" and j.scores is None, j.raw
            assert any("outside the scale 1-1000" in p for p in j.problems), j.problems
    assert outside, "llama.cpp now enforces integer bounds; the enum rewrite may be dropped"


def test_json_schema_form_is_refused_by_llama_cpp(url):
    """llama-cpp-python rejects ``response_format.type == "json_schema"``; the item must fail
    fast with a message that names the fix instead of being retried as a server fault."""
    backend = load_backend(url, max_retries=3)
    waits: list[float] = []
    backend._sleep = waits.append  # type: ignore[attr-defined]
    gen = backend.generate([GenerationRequest(
        messages=chat("x").messages, sampling=Sampling(max_tokens=8),
        json_schema=verdict_schema("score", ["model-1"], (1, 5)))])[0]
    backend.close()
    assert gen.error is not None and "structured=json_object" in gen.error, gen.error
    assert waits == []


def test_logprobs_come_back_and_feed_logprob_scores(url):
    backend = load_backend(url, structured="json_object")
    reqs = [chat(p, top_logprobs=5, temperature=1.0, seed=i) for i, p in enumerate("abc")]
    gens = backend.generate(reqs)
    assert [g.text for g in backend.generate(reqs)] == [g.text for g in gens]   # seeded
    for gen in gens:
        assert gen.error is None and gen.logprobs is not None
        assert "".join(t.token for t in gen.logprobs) == gen.text
        assert all(t.logprob <= 0 and 1 <= len(t.top) <= 6 for t in gen.logprobs)
    judge = Judge(backend, principle="Be correct.", structured=True,
                  sampling=Sampling(max_tokens=48, top_logprobs=5))
    out = judge.score([{"id": f"s{i}", "prompt": f"{i}+{i}?", "responses": [str(2 * i)]}
                       for i in range(6)])
    judge.close()
    parsed = [j for j in out if j.status in ("ok", "repaired")]
    assert parsed, [j.raw for j in out]
    for j in parsed:
        assert j.logprob_scores is not None and 1 <= j.logprob_scores["0"] <= 5


def test_launch_preset_starts_and_stops_the_server(gguf_model):
    backend = load_backend(f"openai:{gguf_model}#judge", launch="llama.cpp",
                           launch_args=" ".join(SERVER_ARGS), launch_timeout=120)
    server = backend.server
    assert server is not None and backend.model == "judge"
    assert backend.options.structured == "json_object"   # the form llama.cpp accepts
    assert server.command[server.command.index("--model_alias") + 1] == "judge"
    process = server.process
    assert process is not None and process.poll() is None
    judge = Judge(backend, principle="Be correct.", structured=True,
                  sampling=Sampling(max_tokens=48))
    out = judge.score([{"id": "a", "prompt": "2+2?", "responses": ["4"]}])
    assert out[0].status != "backend_error", out[0].problems
    judge.close()
    assert server.process is None and process.poll() is not None
