"""Stopping the HTTP backend: Ctrl-C drops queued requests; SIGTERM stops a launched server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from helpers.fault_server import FaultServer

from judge.backends import load_backend
from judge.types import ChatMessage, GenerationRequest, Sampling


def requests(n: int) -> list[GenerationRequest]:
    return [GenerationRequest(messages=(ChatMessage(role="user", content=f"q{i}"),),
                              sampling=Sampling(max_tokens=4)) for i in range(n)]


def test_ctrl_c_drops_the_queued_requests():
    with FaultServer(delay_s=0.3) as srv:
        backend = load_backend(f"openai:{srv.url}", max_concurrency=2)

        def ctrl_c(_index: int, _gen: object) -> None:
            # KeyboardInterrupt surfaces in the main thread while it waits on the requests;
            # raising it from the first completion is that moment, without timing a signal
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            backend.generate(requests(30), on_result=ctrl_c)
        time.sleep(1.2)      # the backend is still open: a queued request would be sent by now
        sent = len(srv.bodies)
        backend.close()
    assert sent <= 4, f"{sent} of 30 requests were sent after Ctrl-C"


def test_a_closed_backend_does_not_retry():
    with FaultServer(fault_rate=1.0, faults=["500"]) as srv:
        backend = load_backend(f"openai:{srv.url}", max_retries=5, backoff_base=0.2)

        def close_while_waiting(_seconds: float) -> None:   # closed while waiting to retry
            threading.Thread(target=backend.close).start()
            time.sleep(0.3)

        backend._sleep = close_while_waiting
        gen = backend.generate(requests(1))[0]
    assert gen.error is not None and "was closed" in gen.error
    assert len(srv.bodies) == 1


_CHILD = """
import sys, time
from judge.backends import load_backend
backend = load_backend("openai:/model", launch_command=sys.argv[1], ready_path="/",
                       launch_timeout=60)
print(backend.server.process.pid, flush=True)
time.sleep(120)
"""


def test_sigterm_stops_the_launched_server(tmp_path):
    server = f"{sys.executable} -m http.server {{port}} --bind 127.0.0.1 --directory {tmp_path}"
    child = subprocess.Popen([sys.executable, "-c", _CHILD, server], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.strip().isdigit(), child.communicate(timeout=30)[1][-2000:]
    pid = int(line)
    try:
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=30) == 128 + signal.SIGTERM
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid), "the launched server outlived SIGTERM to its parent"
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        if child.poll() is None:
            child.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
