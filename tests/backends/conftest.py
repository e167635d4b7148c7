"""Fixtures for the backend tests: one loaded tiny model, one `transformers serve` process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def hf_backend(tiny_model_dir: Path):
    """The transformers backend on the tiny model, loaded once (CPU, float32)."""
    pytest.importorskip("transformers")
    from judge.backends.hf.engine import HFBackend

    backend = HFBackend.load(str(tiny_model_dir), device="cpu", batch_size=4)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model_dir))


@pytest.fixture(scope="session")
def served(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The HTTP backend with ``launch=transformers``: a real `transformers serve` process on a
    free loopback port, started once per session and stopped (checked) at the end."""
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    from judge.backends import load_backend

    hf_home = tmp_path_factory.mktemp("hf-home")
    (hf_home / "hub").mkdir()
    saved = os.environ.get("HF_HOME")
    os.environ["HF_HOME"] = str(hf_home)   # inherited by the server process
    try:
        backend = load_backend(f"openai:{tiny_model_dir}", launch="transformers",
                               launch_args="--device cpu", launch_timeout=120)
    finally:
        if saved is None:
            os.environ.pop("HF_HOME", None)
        else:
            os.environ["HF_HOME"] = saved
    server = backend.server
    pid = server.process.pid
    yield backend
    backend.close()
    assert server.process is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)   # the server process is gone


@pytest.fixture(scope="session")
def served_model(served):
    """The launched server (a :class:`judge.backends.http.launcher.LocalServer`)."""
    return served.server


@pytest.fixture
def launch_commands(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Make ``LocalServer.start`` record its command (port 1234) instead of starting a server."""
    from judge.backends.http.launcher import LocalServer

    commands: list[list[str]] = []

    def fake_start(self: LocalServer) -> LocalServer:
        commands.append(self.command)
        self.port = 1234
        return self

    monkeypatch.setattr(LocalServer, "start", fake_start)
    return commands

