"""Fixtures for server tests: a deterministic scorer, an app, a live uvicorn on loopback."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from helpers.serve_helpers import LengthScorer

from judge.serve.app import ServeSettings, create_app


@pytest.fixture()
def scorer() -> LengthScorer:
    return LengthScorer()


@pytest.fixture()
def client(scorer: LengthScorer) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    app = create_app(scorer, ServeSettings(principle="correct-then-concise", max_items=8,
                                           max_body_bytes=4096, token="s3cret"))
    with TestClient(app, headers={"Authorization": "Bearer s3cret"}) as c:
        yield c


class LiveServer:
    """uvicorn on 127.0.0.1, port 0, in a background thread, configured as `judge serve` runs it."""

    def __init__(self, app: Any, **config: Any) -> None:
        import uvicorn

        from judge.serve.runner import server_config

        self.server = uvicorn.Server(server_config(app, host="127.0.0.1", port=0, **config))
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.run(self.server.serve())

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture()
def live_server():  # type: ignore[no-untyped-def]
    return LiveServer
