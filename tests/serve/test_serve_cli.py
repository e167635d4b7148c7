"""`judge serve` wiring: flags and environment reach the app; loopback by default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from judge.cli import main


@pytest.fixture()
def captured(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    import uvicorn

    seen: dict[str, Any] = {}

    def fake_run(server: Any, *args: Any, **kwargs: Any) -> None:
        config = server.config
        seen["app"], seen["config"] = config.app, config
        seen["kwargs"] = {"host": config.host, "port": config.port}

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    return seen


def test_serve_a_head_with_a_token_from_the_environment(
        captured: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    from fastapi.testclient import TestClient
    from helpers.serve_helpers import tiny_head

    head = tiny_head(tmp_path / "head")
    monkeypatch.setenv("JUDGE_SERVE_TOKEN", "envtok")
    code = main(["serve", "--head", str(head), "--principle", "Be brief.", "--max-items", "2",
                 "--port", "9999"])
    assert code == 0
    assert captured["kwargs"]["host"] == "127.0.0.1" and captured["kwargs"]["port"] == 9999
    assert "serving head:" in capsys.readouterr().err
    with TestClient(captured["app"]) as c:
        assert c.post("/score", json={"prompt": "q", "responses": ["a"]}).status_code == 401
        auth = {"Authorization": "Bearer envtok"}
        r = c.post("/score", json={"prompt": "question 1?", "responses": ["answer 1.", "x y z"]},
                   headers=auth)
        assert r.status_code == 200 and r.json()["principle"]["id"].startswith("text:")
        r = c.post("/score", json={"prompt": "q", "responses": ["a", "b", "c"]}, headers=auth)
        assert r.status_code == 422 and "limit is 2" in r.json()["error"]


def test_public_bind_without_token_is_refused_unless_allowed(
        captured: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    replies = tmp_path / "r.jsonl"
    replies.write_text('"{\\"score\\": 3}"\n')
    backend = ["--backend", f"scripted:{replies}"]
    assert main(["serve", *backend, "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "refusing to serve on 0.0.0.0 without a token" in err and "app" not in captured
    assert main(["serve", *backend, "--host", "0.0.0.0", "--allow-insecure-remote"]) == 0
    assert "without a token" in capsys.readouterr().err
    assert main(["serve", *backend, "--host", "0.0.0.0", "--token", "t"]) == 0


def test_timeouts_reach_the_server(captured: dict[str, Any], tmp_path: Path) -> None:
    replies = tmp_path / "r.jsonl"
    replies.write_text('"{\\"score\\": 3}"\n')
    assert main(["serve", "--backend", f"scripted:{replies}", "--request-timeout", "7",
                 "--header-timeout", "3", "--body-timeout", "4"]) == 0
    settings = captured["app"].state.settings
    assert settings.request_timeout_s == 7 and settings.body_timeout_s == 4
    assert captured["config"].http.header_timeout_s == 3
    assert captured["config"].timeout_keep_alive > 5  # outlives httpx's 5 s client pool


def test_group_flags_reach_the_server(captured: dict[str, Any], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    replies = tmp_path / "r.jsonl"
    replies.write_text('"{\\"score\\": 3}"\n')
    backend = ["--backend", f"scripted:{replies}"]
    assert main(["serve", *backend, "--group-size", "8", "--group-window-ms", "250"]) == 0
    settings = captured["app"].state.settings
    assert (settings.group_size, settings.group_window_ms) == (8, 250)
    assert settings.request_timeout_s < 180  # inside OpenRLHF's own timeout
    assert main(["serve", *backend, "--group-window-ms", "9000", "--request-timeout", "5"]) == 2
    assert "--group-window-ms" in capsys.readouterr().err


def test_head_and_backend_conflict(captured: dict[str, Any],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--head", "x", "--backend", "scripted:y"]) == 2
    assert "not both" in capsys.readouterr().err
