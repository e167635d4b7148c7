"""Start a local OpenAI-compatible server, wait until it answers, stop it afterwards.

    >>> from judge.backends.http.launcher import LocalServer, server_command
    >>> cmd = server_command("vllm", "./my-model")          # doctest: +SKIP
    >>> with LocalServer(cmd, ready_path="/v1/models") as server:   # doctest: +SKIP
    ...     print(server.base_url)                         # http://127.0.0.1:PORT/v1

The server gets a free loopback port (``{port}`` in the command is replaced by it), runs in its
own process group with its output in a log file, and is torn down with SIGTERM then SIGKILL.
If it exits or never becomes ready, :class:`~judge.errors.BackendUnavailable` says so and
quotes the end of its log. SIGTERM to this process stops its servers too (atexit covers normal
exits and Ctrl-C). From the command line the same thing is one option of the HTTP
backend: ``--backend openai:./my-model -B launch=vllm``.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType, TracebackType

import httpx

from judge.backends.shared.gguf import has_chat_template
from judge.errors import BackendUnavailable, ConfigError

log = logging.getLogger(__name__)

_TRANSFORMERS_MAIN = ("import sys; from transformers.cli.transformers import main; "
                      "sys.argv[0] = 'transformers'; sys.exit(main())")

#: Known servers: argument list (``{python}``, ``{model}``, ``{port}`` filled in) and ready path.
PRESETS: dict[str, tuple[list[str], str]] = {
    "vllm": (["{python}", "-m", "vllm.entrypoints.openai.api_server", "--model", "{model}",
              "--host", "127.0.0.1", "--port", "{port}"], "/v1/models"),
    "sglang": (["{python}", "-m", "sglang.launch_server", "--model-path", "{model}",
                "--host", "127.0.0.1", "--port", "{port}"], "/v1/models"),
    "transformers": (["{python}", "-c", _TRANSFORMERS_MAIN, "serve", "{model}",
                      "--host", "127.0.0.1", "--port", "{port}"], "/health"),
    "llama.cpp": (["{python}", "-m", "llama_cpp.server", "--model", "{model}",
                   "--host", "127.0.0.1", "--port", "{port}"], "/v1/models"),
}


def default_threads() -> int:
    """Threads for a CPU server: half the cores this process may use, at least one.

    llama.cpp spins its worker threads (OpenMP); on a shared or busy machine using every core
    made SmolLM2 about 15 times slower than one thread, so half is the default.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):   # not Linux
        cores = os.cpu_count() or 1
    return max(1, cores // 2)


def llama_cpp_args(model: str, extra: Sequence[str], *, threads: int | None = None,
                   chat_format: str | None = None) -> list[str]:
    """The extra server arguments for llama.cpp: thread count and chat format, checked.

    Raises:
        ConfigError: the model file is missing or not GGUF; it has no chat template and no chat
            format is named (llama.cpp would silently use a llama-2 prompt); an option is given
            both as a ``-B`` option and in ``launch_args``.
    """
    args = list(extra)
    if "--n_threads" in args:
        if threads is not None:
            raise ConfigError("the thread count is given twice: -B threads and --n_threads in "
                              "launch_args; keep one")
    else:
        n = threads if threads is not None else default_threads()
        args += ["--n_threads", str(n), "--n_threads_batch", str(n)]
    if "--chat_format" in args:
        if chat_format is not None:
            raise ConfigError("the chat format is given twice: -B chat_format and --chat_format "
                              "in launch_args; keep one")
    elif chat_format is not None:
        args += ["--chat_format", chat_format]
    elif not has_chat_template(model):
        raise ConfigError(
            f"'{model}' has no chat template (no tokenizer.chat_template in its GGUF metadata), "
            "so llama.cpp would prompt it in llama-2 format; it may be a base model rather than "
            "an instruction-tuned judge. Name its format, e.g. -B chat_format=gemma (or chatml)")
    return args


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_command(kind: str, model: str, *, python: str | None = None,
                   extra_args: Sequence[str] = ()) -> tuple[list[str], str]:
    """The command (with a ``{port}`` placeholder) and ready path of a known server.

    Args:
        kind: one of :data:`PRESETS` (vllm, sglang, transformers, llama.cpp).
        model: the model folder (or file, for llama.cpp) to serve.
        python: the interpreter that has the server installed (default: this one).
        extra_args: more arguments for the server (e.g. ``--max-model-len 512``).

    >>> server_command("vllm", "m", python="py")[0][:3]
    ['py', '-m', 'vllm.entrypoints.openai.api_server']
    """
    if kind not in PRESETS:
        raise ConfigError(f"unknown server '{kind}' to launch; known: {', '.join(PRESETS)} "
                          "(or give launch_command='... {port} ...')")
    template, ready = PRESETS[kind]
    fill = {"python": python or sys.executable, "model": model}
    return [part.format(**fill) if part != "{port}" else part for part in template] + \
        list(extra_args), ready


class LocalServer:
    """A server process on a free loopback port, as a context manager.

    Args:
        command: program and arguments; ``{port}`` is replaced by the chosen port.
        ready_path: a GET path that answers 200 once the server is ready.
        timeout: seconds to wait for readiness.
        env: extra environment variables for the server.
        base_path: the API prefix appended to the URL (``/v1``).
        port: a fixed port instead of a free one.
    """

    def __init__(self, command: Sequence[str], *, ready_path: str = "/v1/models",
                 timeout: float = 600.0, env: Mapping[str, str] | None = None,
                 base_path: str = "/v1", port: int | None = None) -> None:
        if not command:
            raise ConfigError("LocalServer needs a command to run")
        self.command = list(command)
        self.ready_path = ready_path
        self.timeout = timeout
        self.env = dict(env or {})
        self.base_path = base_path
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: tempfile._TemporaryFileWrapper[bytes] | None = None

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL, e.g. ``http://127.0.0.1:PORT/v1``."""
        return self.root_url + self.base_path

    @property
    def log_path(self) -> Path | None:
        """Where the server's stdout and stderr go."""
        return Path(self._log_file.name) if self._log_file else None

    def start(self) -> LocalServer:
        """Start the process and block until it is ready.

        Raises:
            BackendUnavailable: it could not start, exited, or was not ready in time.
        """
        if self.process is not None:
            return self
        self.port = self.port or free_port()
        argv = [part.replace("{port}", str(self.port)) for part in self.command]
        self._log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives with the process
            prefix="judge-server-", suffix=".log", delete=False)
        log.info("starting %s (log: %s)", " ".join(argv), self._log_file.name)
        try:
            self.process = subprocess.Popen(
                argv, stdout=self._log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env}, start_new_session=True)
        except OSError as exc:
            raise BackendUnavailable(f"cannot start server '{argv[0]}': {exc}") from None
        _LIVE.add(self)
        _stop_servers_on_sigterm()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.timeout
        url = self.root_url + self.ready_path
        with httpx.Client(timeout=5.0, trust_env=False) as client:
            while True:
                code = self.process.poll()
                if code is not None:
                    raise BackendUnavailable(
                        f"server exited with code {code} before it was ready: "
                        f"{' '.join(self.command[:4])} ...\n{self.log_tail()}")
                try:
                    if client.get(url).status_code == 200:
                        log.info("server ready at %s", self.base_url)
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise BackendUnavailable(
                        f"server not ready after {self.timeout:.0f} s ({url} never answered "
                        f"200); raise launch_timeout if it is just slow\n{self.log_tail()}")
                time.sleep(0.25)

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the server's log."""
        path = self.log_path
        if path is None or not path.exists():
            return "(no log)"
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:]) or "(empty log)"

    def stop(self, grace: float = 10.0) -> None:
        """Terminate the server's process group (idempotent)."""
        process, self.process = self.process, None
        _LIVE.discard(self)
        if process is not None and process.poll() is None:
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=grace)
        if self._log_file is not None:
            self._log_file.close()
            Path(self._log_file.name).unlink(missing_ok=True)
            self._log_file = None

    def __enter__(self) -> LocalServer:  # noqa: PYI034
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(process.pid, sig)  # its own session: the group id is its pid
    except (ProcessLookupError, PermissionError):
        pass


_LIVE: weakref.WeakSet[LocalServer] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for server in list(_LIVE):
        server.stop(grace=5.0)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    _stop_all()
    raise SystemExit(128 + signum)   # unwinds: finally blocks run, partial output is dropped


def _stop_servers_on_sigterm() -> None:
    """Stop launched servers when this process gets SIGTERM (whose default kills it at once,
    leaving its servers running). Only from the main thread, and only where nobody else has
    installed a SIGTERM handler (a web server hosting the judge keeps its own)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)
