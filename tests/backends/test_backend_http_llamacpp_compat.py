"""Regression tests for what a real llama.cpp server revealed (no llama.cpp needed here).

scripts/test-llamacpp.sh runs the same paths against ``python -m llama_cpp.server``.
"""

from __future__ import annotations

import copy
import json

import httpx
from helpers.gguf_file import write_gguf

from judge.backends import load_backend
from judge.backends.http.client import OpenAIBackend, OpenAIOptions
from judge.backends.http.wire import chat_body
from judge.types import ChatMessage, GenerationRequest, Sampling
from judge.verdict.schema import verdict_schema

# What llama-cpp-python 0.3.36 answers to response_format type json_schema (recorded).
LLAMA_CPP_REFUSAL = {"error": {
    "message": "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', "
               "'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\", "
               "'input': 'json_schema'}\n\n  POST /v1/chat/completions",
    "type": "internal_server_error", "param": None, "code": None}}


def request(schema: dict | None) -> GenerationRequest:
    return GenerationRequest(messages=(ChatMessage(role="user", content="hi"),),
                             sampling=Sampling(max_tokens=8), json_schema=schema)


def test_json_object_form_sends_small_integer_ranges_as_enums():
    """llama.cpp ignores minimum/maximum (a 1-5 score came back as 8000000000000000) but
    enforces enums, so its form carries the scale as an enum."""
    schema = verdict_schema("scores-ranking", ["model-1", "model-2"], (1, 5))
    schema["properties"]["note"] = {"enum": [{"type": "integer", "minimum": 0, "maximum": 1}],
                                    "default": {"type": "integer", "minimum": 0, "maximum": 1}}
    schema["properties"]["wide"] = {"type": "integer", "minimum": 1, "maximum": 1000}
    schema["properties"]["flag"] = {"type": "integer", "minimum": False, "maximum": True}
    before = copy.deepcopy(schema)
    sent = chat_body(request(schema), model="m", structured="json_object")["response_format"]
    assert schema == before                                    # the caller's schema is untouched
    assert sent["type"] == "json_object"
    props = sent["schema"]["properties"]
    assert props["scores"]["properties"]["model-2"] == {"type": "integer", "enum": [1, 2, 3, 4, 5]}
    assert props["best-to-worst"] == {"enum": [["model-1", "model-2"], ["model-2", "model-1"]]}
    assert props["note"] == before["properties"]["note"]      # enum/default values are data
    assert props["wide"] == before["properties"]["wide"]      # too wide for an enum
    assert props["flag"] == before["properties"]["flag"]      # booleans are no bounds
    other = chat_body(request(schema), model="m", structured="json_schema")
    assert other["response_format"]["json_schema"]["schema"] == before   # enforcing servers


def test_rankings_become_permutation_enums_up_to_five_ids():
    """JSON Schema cannot say "each id once"; llama.cpp enforces enums, so a ranking of up to 5
    ids goes out as its permutations (5! = 120) and a longer one is left as it was."""
    ids5 = [f"model-{n}" for n in range(1, 6)]
    five = chat_body(request(verdict_schema("scores-ranking", ids5, (1, 5))), model="m",
                     structured="json_object")["response_format"]["schema"]
    orders = five["properties"]["best-to-worst"]["enum"]
    assert len(orders) == 120 and len({tuple(o) for o in orders}) == 120
    assert all(sorted(o) == ids5 for o in orders)
    six = verdict_schema("scores-ranking", [*ids5, "model-6"], (1, 5))
    sent = chat_body(request(six), model="m", structured="json_object")["response_format"]
    assert sent["schema"]["properties"]["best-to-worst"] == six["properties"]["best-to-worst"]


def _llama_cpp_like(seen: list[dict]) -> httpx.MockTransport:
    """Refuses json_schema like llama.cpp; any other request gets a 500 that names nothing."""
    def handle(req: httpx.Request) -> httpx.Response:
        body = json.loads(req.content)
        seen.append(body)
        if body.get("response_format", {}).get("type") == "json_schema":
            return httpx.Response(500, json=LLAMA_CPP_REFUSAL)
        return httpx.Response(500, json={"error": {"message": "out of memory"}})
    return httpx.MockTransport(handle)


def test_refused_json_schema_form_fails_fast_and_names_the_fix():
    seen: list[dict] = []
    backend = OpenAIBackend("http://127.0.0.1:9/v1", "tiny", transport=_llama_cpp_like(seen),
                            options=OpenAIOptions(max_retries=3))
    waits: list[float] = []
    backend._sleep = waits.append  # type: ignore[method-assign]
    refused = backend.generate([request(verdict_schema("score", ["model-1"], (1, 5)))])[0]
    assert refused.error is not None and "HTTP 500" in refused.error
    assert "-B structured=json_object" in refused.error and "not retried" in refused.error
    assert len(seen) == 1 and waits == []
    transient = backend.generate([request(None)])[0]          # a real fault is still retried
    backend.close()
    assert transient.error is not None and "gave up after 4 attempt(s)" in transient.error
    assert len(seen) == 5 and len(waits) == 3


def test_launching_llama_cpp_defaults_to_its_structured_form(launch_commands, tmp_path):
    commands = launch_commands
    gguf = str(write_gguf(tmp_path / "m.gguf", {"tokenizer.chat_template": "{{ messages }}"}))
    launched = load_backend(f"openai:{gguf}#judge", launch="llama.cpp",
                            launch_args="--n_ctx 4096", launch_python="py")
    assert launched.options.structured == "json_object"
    assert commands[-1][:5] == ["py", "-m", "llama_cpp.server", "--model", gguf]
    assert commands[-1][9:11] == ["--n_ctx", "4096"]
    assert commands[-1][-2:] == ["--model_alias", "judge"]
    assert launched.model == "judge"
    chosen = load_backend(f"openai:{gguf}", launch="llama.cpp", structured="json_schema")
    assert chosen.options.structured == "json_schema"          # an explicit choice is kept
    assert chosen.model == gguf
    for backend in (launched, chosen):
        backend.close()
