"""The llama.cpp launch preset: thread count, chat template check, GGUF metadata reading."""

from __future__ import annotations

import io
import struct

import pytest
from helpers.gguf_file import write_gguf

from judge.backends import load_backend
from judge.backends.http import launcher
from judge.backends.http.launcher import default_threads, llama_cpp_args
from judge.backends.shared.gguf import gguf_metadata, has_chat_template
from judge.errors import ConfigError

CHATML = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>{% endfor %}"


@pytest.fixture
def chat_gguf(tmp_path):
    return write_gguf(tmp_path / "chat.gguf", {
        "general.architecture": "llama", "llama.context_length": 2048,
        "tokenizer.ggml.tokens": ["a", "b", "<|im_end|>"], "tokenizer.chat_template": CHATML})


@pytest.fixture
def base_gguf(tmp_path):
    return write_gguf(tmp_path / "base.gguf", {"general.architecture": "gemma3",
                                               "tokenizer.ggml.tokens": ["x"] * 1000})


def test_metadata_is_read_past_arrays(chat_gguf, base_gguf):
    with chat_gguf.open("rb") as f:
        meta = gguf_metadata(f)
    assert meta["tokenizer.chat_template"] == CHATML
    assert meta["tokenizer.ggml.tokens"] == 3 and meta["llama.context_length"] == 2048
    assert has_chat_template(chat_gguf) and not has_chat_template(base_gguf)


def test_files_that_are_not_gguf_are_named(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        has_chat_template(tmp_path / "missing.gguf")
    (tmp_path / "model.bin").write_bytes(b"PK\x03\x04 not gguf")
    with pytest.raises(ConfigError, match="model.bin is not a GGUF file"):
        has_chat_template(tmp_path / "model.bin")
    cut = b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + struct.pack("<Q", 50) + b"short"
    with pytest.raises(ConfigError, match="cut short"):
        gguf_metadata(io.BytesIO(cut), where="cut.gguf")


def test_thread_count_defaults_to_half_the_cores(chat_gguf, monkeypatch):
    for cores, threads in ((1, 1), (2, 1), (3, 1), (16, 8)):
        monkeypatch.setattr(launcher.os, "sched_getaffinity", lambda _pid, n=cores: set(range(n)))
        assert default_threads() == threads
        args = llama_cpp_args(str(chat_gguf), ["--n_ctx", "4096"])
        assert args == ["--n_ctx", "4096", "--n_threads", str(threads),
                        "--n_threads_batch", str(threads)]
    assert llama_cpp_args(str(chat_gguf), [], threads=3)[1::2] == ["3", "3"]
    assert llama_cpp_args(str(chat_gguf), ["--n_threads", "2"]) == ["--n_threads", "2"]
    with pytest.raises(ConfigError, match="thread count is given twice"):
        llama_cpp_args(str(chat_gguf), ["--n_threads", "2"], threads=4)


def test_a_gguf_without_chat_template_needs_a_named_chat_format(base_gguf):
    with pytest.raises(ConfigError, match="no chat template.*-B chat_format=gemma"):
        llama_cpp_args(str(base_gguf), [])
    assert llama_cpp_args(str(base_gguf), [], threads=1, chat_format="gemma")[-2:] == \
        ["--chat_format", "gemma"]
    assert "--chat_format" in llama_cpp_args(str(base_gguf), ["--chat_format", "gemma"])
    with pytest.raises(ConfigError, match="chat format is given twice"):
        llama_cpp_args(str(base_gguf), ["--chat_format", "gemma"], chat_format="gemma")


def test_the_backend_passes_threads_and_refuses_bad_models(launch_commands, chat_gguf,
                                                           base_gguf):
    backend = load_backend(f"openai:{chat_gguf}#judge", launch="llama.cpp", threads=2,
                           launch_args="--n_ctx 512", launch_python="py")
    backend.close()
    assert launch_commands[-1][9:] == ["--n_ctx", "512", "--n_threads", "2",
                                       "--n_threads_batch", "2", "--model_alias", "judge"]
    with pytest.raises(ConfigError, match="no chat template"):
        load_backend(f"openai:{base_gguf}", launch="llama.cpp")
    with pytest.raises(ConfigError, match="does not exist"):
        load_backend(f"openai:{chat_gguf.parent / 'gone.gguf'}", launch="llama.cpp")
    gemma = load_backend(f"openai:{base_gguf}", launch="llama.cpp", chat_format="gemma")
    gemma.close()
    assert launch_commands[-1][-2:] == ["--chat_format", "gemma"]
    assert len(launch_commands) == 2          # the refused models started nothing


@pytest.mark.parametrize("options", [{"threads": 2}, {"chat_format": "gemma"},
                                     {"threads": 2, "launch": "vllm"},
                                     {"threads": 2, "launch": "llama.cpp",
                                      "launch_command": "srv --port {port}"}])
def test_llama_cpp_options_are_refused_elsewhere(options, launch_commands):
    target = "openai:http://127.0.0.1:9/v1" if "launch" not in options else "openai:/m"
    with pytest.raises(ConfigError, match="applies only with -B launch=llama.cpp"):
        load_backend(target, **options)
    assert launch_commands == []
