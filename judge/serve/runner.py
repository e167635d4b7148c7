"""Run the app with uvicorn under safe defaults.

* A non-loopback address without a token is refused (anyone who can reach the port could use
  the model) unless the caller explicitly allows it (``--allow-insecure-remote``).
* A connection that has not sent complete request headers within ``header_timeout_s`` is closed
  (uvicorn has no such limit: slow or stalled clients would hold connections forever); a body
  that has not arrived within ``ServeSettings.body_timeout_s`` gets 408 (:mod:`judge.serve.app`).
* Idle keep-alive connections are kept ``keep_alive_s`` (30 s): longer than common client pools
  keep them (httpx 5 s, aiohttp 15 s), so the server is not the one closing a connection a client
  is about to reuse, which shows as a connection reset under load.
"""

from __future__ import annotations

import asyncio
from typing import Any

from judge.errors import ConfigError
from judge.net import is_loopback_host

HEADER_TIMEOUT_S = 10.0
KEEP_ALIVE_S = 30


def check_bind(host: str, token: str | None, allow_insecure_remote: bool) -> None:
    """Refuse to serve a non-loopback address without a token, unless explicitly allowed.

    >>> check_bind("127.0.0.1", None, False)
    >>> check_bind("0.0.0.0", None, False)
    Traceback (most recent call last):
    ...
    judge.errors.ConfigError: refusing to serve on 0.0.0.0 without a token: anyone who can reach \
this port could use it. Set --token (or JUDGE_SERVE_TOKEN), bind 127.0.0.1, or pass \
--allow-insecure-remote if the network is trusted
    """
    if token or allow_insecure_remote or is_loopback_host(host):
        return
    raise ConfigError(f"refusing to serve on {host} without a token: anyone who can reach this "
                      "port could use it. Set --token (or JUDGE_SERVE_TOKEN), bind 127.0.0.1, or "
                      "pass --allow-insecure-remote if the network is trusted")


def server_config(app: Any, *, host: str, port: int, header_timeout_s: float = HEADER_TIMEOUT_S,
                  keep_alive_s: int = KEEP_ALIVE_S, log_level: str = "warning") -> Any:
    """A ``uvicorn.Config`` with the header timeout and keep-alive above."""
    import uvicorn

    protocol = type("TimedH11Protocol", (_timed_protocol(),),
                    {"header_timeout_s": header_timeout_s})
    return uvicorn.Config(app, host=host, port=port, http=protocol, lifespan="on",
                          timeout_keep_alive=keep_alive_s, log_level=log_level)


def _timed_protocol() -> type[Any]:
    """uvicorn's h11 protocol, closing connections whose headers are late (imported lazily)."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class TimedH11(H11Protocol):
        header_timeout_s = HEADER_TIMEOUT_S
        _header_timer: asyncio.TimerHandle | None = None
        _partial = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self.conn.their_state is h11.IDLE:  # bytes of the next request's headers
                self._partial = True
                if self._header_timer is None:
                    self._arm()
            super().data_received(data)

        def handle_events(self) -> None:
            before = self.cycle
            super().handle_events()
            if self.cycle is not before:  # a request's headers are complete
                self._disarm()
                self._partial = False

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._late)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _late(self) -> None:
            self._header_timer = None
            if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
                return
            if self._partial:
                body = (b'{"error": "the request headers did not arrive within '
                        + f"{self.header_timeout_s:g}".encode() + b' s"}')
                self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-type: "
                                     b"application/json\r\nconnection: close\r\ncontent-length: "
                                     + str(len(body)).encode() + b"\r\n\r\n" + body)
            self.transport.close()

    return TimedH11
