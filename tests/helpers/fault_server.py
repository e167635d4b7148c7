"""A loopback OpenAI-compatible server that injects faults at a set rate (test helper).

Each ``POST /v1/chat/completions`` either fails (429 with Retry-After, 500, a slow reply, a
dropped connection, a malformed body) with probability ``fault_rate`` from a seeded schedule, or
answers with ``reply(body)`` (by default an echo of the last user message). Every request body is
recorded so tests can check what the client sent.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = ("429", "500", "slow", "drop", "malformed")


def echo_reply(body: dict[str, Any]) -> str:
    """The default answer: the last user message, prefixed."""
    users = [m["content"] for m in body.get("messages", []) if m.get("role") == "user"]
    return "echo:" + (users[-1] if users else "")


def completion(content: str, *, logprobs: list[dict[str, Any]] | None = None,
               finish_reason: str = "stop", reasoning: str | None = None) -> dict[str, Any]:
    """An OpenAI chat.completion body."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": finish_reason}
    if logprobs is not None:
        choice["logprobs"] = {"content": logprobs}
    return {"id": "x", "object": "chat.completion", "model": "fake", "choices": [choice],
            "usage": {"prompt_tokens": 7, "completion_tokens": max(1, len(content) // 4)}}


class FaultServer:
    """Start with ``with FaultServer(...) as srv:``; ``srv.url`` is the ``/v1`` base URL.

    Args:
        fault_rate: probability that a request gets a fault.
        faults: which faults to draw from.
        seed: seeds the fault schedule.
        reply: builds the answer (a string, or a full body dict) from the request body.
        slow_s: how long a slow reply stalls before answering.
        retry_after: the Retry-After header sent with 429s.
        status: answer every request with this HTTP status instead (e.g. 400).
    """

    def __init__(self, *, fault_rate: float = 0.0, faults: Sequence[str] = FAULTS, seed: int = 0,
                 reply: Callable[[dict[str, Any]], str | dict[str, Any]] = echo_reply,
                 slow_s: float = 1.0, retry_after: str = "0", status: int | None = None,
                 delay_s: float = 0.0) -> None:
        self.fault_rate = fault_rate
        self.faults = list(faults)
        self.rng = random.Random(seed)
        self.reply = reply
        self.slow_s = slow_s
        self.retry_after = retry_after
        self.status = status
        self.delay_s = delay_s
        self.bodies: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()
        self.in_flight = 0
        self.peak_in_flight = 0
        self.lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> FaultServer:  # noqa: PYI034
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": "fake"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with owner.lock:
                    owner.bodies.append(body)
                    fault = (owner.rng.choice(owner.faults)
                             if owner.rng.random() < owner.fault_rate else "none")
                    owner.counts[fault] += 1
                    owner.in_flight += 1
                    owner.peak_in_flight = max(owner.peak_in_flight, owner.in_flight)
                try:
                    self._serve(body, fault)
                finally:
                    with owner.lock:
                        owner.in_flight -= 1

            def _serve(self, body: dict[str, Any], fault: str) -> None:
                if owner.delay_s:
                    time.sleep(owner.delay_s)
                if owner.status is not None:
                    self._send(owner.status, {"error": {"message": f"status {owner.status}"}})
                elif fault == "429":
                    self._send(429, {"error": {"message": "rate limited"}},
                               {"Retry-After": owner.retry_after})
                elif fault == "500":
                    self._send(500, {"error": {"message": "boom"}})
                elif fault == "drop":
                    self.close_connection = True     # no response at all
                elif fault == "malformed":
                    raw = b'{"choices": [{"message": ' if owner.rng.random() < 0.5 \
                        else b'{"choices": "not a list"}'
                    self._send_raw(200, raw)
                else:
                    if fault == "slow":
                        time.sleep(owner.slow_s)
                    answer = owner.reply(body)
                    self._send(200, answer if isinstance(answer, dict) else completion(answer))

            def _send(self, status: int, data: dict[str, Any],
                      headers: dict[str, str] | None = None) -> None:
                self._send_raw(status, json.dumps(data).encode(), headers)

            def _send_raw(self, status: int, raw: bytes,
                          headers: dict[str, str] | None = None) -> None:
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(raw)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(raw)
                except OSError:
                    self.close_connection = True     # the client gave up (timeout)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self._httpd = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()
