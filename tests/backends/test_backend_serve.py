"""The HTTP backend against a real `transformers serve` process, and the launcher."""

from __future__ import annotations

import sys

import pytest

from judge.backends import load_backend
from judge.backends.http.launcher import LocalServer, free_port, server_command
from judge.core import Judge
from judge.errors import BackendUnavailable, ConfigError
from judge.types import ChatMessage, GenerationRequest, Sampling

PROMPTS = ["short", "a somewhat longer prompt " * 3, "x " * 30, "What is 12 times 7?"]


def reqs(max_tokens: int = 16) -> list[GenerationRequest]:
    return [GenerationRequest(messages=(ChatMessage(role="user", content=p),),
                              sampling=Sampling(max_tokens=max_tokens)) for p in PROMPTS]


def test_real_server_answers_in_input_order(served_model, tiny_tokenizer, hf_backend):
    backend = load_backend(f"openai:{served_model.base_url}", max_concurrency=3)
    out = backend.generate(reqs())
    backend.close()
    local = hf_backend.generate(reqs())
    for req, gen, mine in zip(reqs(), out, local, strict=True):
        assert gen.error is None
        assert gen.finish_reason in ("stop", "length")
        text = tiny_tokenizer.apply_chat_template(
            [{"role": "user", "content": req.messages[0].content}], add_generation_prompt=True,
            tokenize=False)
        assert gen.usage.prompt_tokens == len(tiny_tokenizer(text, add_special_tokens=False)
                                              ["input_ids"])
        assert 0 < gen.usage.completion_tokens <= 16
        assert gen.text == mine.text.strip()   # same greedy answer (the server strips it)


def test_judge_rank_through_the_real_server(served_model):
    judge = Judge(f"openai:{served_model.base_url}", principle="correct-then-concise",
                  sampling=Sampling(max_tokens=8), backend_options={"max_concurrency": 4})
    items = [{"id": f"i{n}", "prompt": f"q{n}", "responses": ["a", "b", "c"][: 1 + n % 3]}
             for n in range(4)]
    out = judge.rank(items)
    judge.close()
    assert [j.item_id for j in out] == [f"i{n}" for n in range(4)]
    assert all(j.status in ("unparsed", "ok", "repaired") for j in out)  # never backend_error
    assert all("truncated" in j.flags for j in out if j.status == "unparsed")


def test_wrong_model_name_is_a_client_error_without_retries(served_model):
    backend = load_backend(f"openai:{served_model.base_url}#not-this-model", max_retries=3)
    waits: list[float] = []
    backend._sleep = waits.append  # type: ignore[attr-defined]
    gen = backend.generate(reqs()[:1])[0]
    backend.close()
    assert gen.error is not None and "HTTP 400" in gen.error and "pinned" in gen.error
    assert waits == []


def test_launch_option_gives_a_working_backend(served):
    assert served.name.startswith("openai:") and served.model == served.server.command[4]
    gen = served.generate(reqs(4)[:1])[0]
    assert gen.error is None and gen.usage.completion_tokens > 0
    assert served.server.process.poll() is None


def test_launcher_reports_a_server_that_exits(tmp_path):
    script = "import sys; print('bad flag --port', sys.argv[1]); sys.exit(3)"
    command = [sys.executable, "-c", script, "{port}"]
    with pytest.raises(BackendUnavailable, match="exited with code 3") as info:
        LocalServer(command, timeout=30).start()
    assert "bad flag --port" in str(info.value)


def test_launcher_times_out_and_cleans_up():
    command = [sys.executable, "-c", "import time; time.sleep(60)"]
    server = LocalServer(command, timeout=0.5, port=free_port())
    with pytest.raises(BackendUnavailable, match="not ready after"):
        server.start()
    assert server.process is None


def test_launcher_serves_a_plain_http_server():
    command = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "{port}"]
    with LocalServer(command, ready_path="/", timeout=30) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        process = server.process
        assert process is not None and process.poll() is None
    assert process.poll() is not None


def test_server_presets():
    cmd, ready = server_command("transformers", "/m", python="py", extra_args=["--device", "cpu"])
    assert cmd[:2] == ["py", "-c"] and cmd[3:5] == ["serve", "/m"] and ready == "/health"
    assert cmd[-2:] == ["--device", "cpu"] and "{port}" in cmd
    cmd, _ = server_command("vllm", "/m", python="py")
    assert cmd[cmd.index("--model") + 1] == "/m" and "127.0.0.1" in cmd
    with pytest.raises(ConfigError, match="unknown server"):
        server_command("tgi", "/m")


def test_launch_passes_the_requested_model_name(launch_commands):
    commands = launch_commands
    vllm = load_backend("openai:/m#judge", launch="vllm", launch_args="--dtype float32",
                        launch_python="py")
    assert commands[-1][-4:] == ["--dtype", "float32", "--served-model-name", "judge"]
    assert vllm.model == "judge" and vllm.base_url == "http://127.0.0.1:1234/v1"
    served = load_backend("openai:/m#judge", launch="transformers")
    assert served.model == "/m"     # transformers serve only answers to the model's path
    custom = load_backend("openai:/m", launch_command="srv --port {port} --model {model}")
    assert commands[-1] == ["srv", "--port", "{port}", "--model", "/m"] and custom.model == "/m"
    for backend in (vllm, served, custom):
        backend.close()
