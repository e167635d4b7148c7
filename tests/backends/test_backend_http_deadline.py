"""The HTTP backend's timeout is a total deadline, not a per-read one (issue 12, item 12): a
loopback server that trickles its answer a byte at a time cannot hold a request past it, and
retries stop when the item's overall budget is spent."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import pytest
from helpers.fault_server import completion

from judge.backends import load_backend
from judge.core import Judge
from judge.types import ChatMessage, GenerationRequest

VERDICT = json.dumps({"scores": {"model-1": 4, "model-2": 2},
                      "best-to-worst": ["model-1", "model-2"]})


class TrickleServer:
    """Answers every request correctly, but one byte every ``pace_s`` seconds: the whole
    response (``what="all"``) or only its body after prompt headers (``what="body"``)."""

    def __init__(self, what: str, pace_s: float = 0.2) -> None:
        body = json.dumps(completion(VERDICT)).encode()
        head = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                + str(len(body)).encode() + b"\r\n\r\n")
        self.answer, self.split = head + body, (0 if what == "all" else len(head))
        self.pace_s = pace_s
        self.requests = 0
        self.sent: list[int] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.stop = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"

    def __enter__(self) -> TrickleServer:  # noqa: PYI034
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.sock.close()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, _, rest = data.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length"))
        while len(rest) < length:
            rest += conn.recv(65536)
        self.requests += 1
        sent = 0
        try:
            conn.sendall(self.answer[:self.split])
            sent = self.split
            for byte in self.answer[self.split:]:
                if self.stop.is_set():
                    break
                conn.sendall(bytes([byte]))
                sent += 1
                time.sleep(self.pace_s)
        except OSError:
            pass
        finally:
            self.sent.append(sent)
            conn.close()


def _request() -> list[GenerationRequest]:
    return [GenerationRequest(messages=(ChatMessage(role="user", content="hi"),))]


@pytest.mark.parametrize("what", ["all", "body"])
def test_a_trickling_server_cannot_hold_a_request_past_its_timeout(what: str) -> None:
    with TrickleServer(what) as srv:
        b = load_backend(f"openai:{srv.url}#m", timeout=1, max_retries=0)
        out = b.generate(_request())
        b.close()
        for _ in range(100):  # the server notices the closed connection on its next byte
            if srv.sent:
                break
            time.sleep(0.05)
    assert out[0].error is not None and "within 1 s (timeout=1 s per attempt)" in out[0].error
    assert srv.requests == 1 and srv.sent[0] < len(srv.answer) // 2  # gave up well before the end


def test_retries_stop_when_the_items_deadline_is_spent() -> None:
    with TrickleServer("all") as srv:
        b = load_backend(f"openai:{srv.url}#m", timeout=0.5, max_retries=10, deadline=1.2,
                         backoff_base=0.001, backoff_max=0.01)
        out = b.generate(_request())
        b.close()
    assert out[0].error is not None and srv.requests <= 3
    assert "deadline" in out[0].error or "gave up after" in out[0].error


def test_a_judge_over_a_trickling_server_reports_backend_error() -> None:
    with TrickleServer("body") as srv:
        judge = Judge(f"openai:{srv.url}#m", backend_options={"timeout": 1, "max_retries": 0})
        got: Any = judge.rank([{"prompt": "q", "responses": ["a", "b"],
                                "principle": "correct-then-concise"}])[0]
        judge.close()
    assert got.status == "backend_error" and "timeout=1 s" in " ".join(got.problems)
