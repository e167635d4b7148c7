"""The HTTP backend: any OpenAI-compatible chat-completions server.

``--backend openai:URL#MODEL`` talks to ``vllm serve``, SGLang, llama.cpp's server, ``transformers
serve`` or a hosted API, e.g. ``openai:http://127.0.0.1:8000/v1#Qwen/Qwen3-8B``. Without
``#MODEL`` the request names no model (servers that serve one model accept that).
``--backend openai:PATH -B launch=vllm`` first starts that server for the model at PATH on a free
loopback port (see :mod:`judge.backends.http.launcher`) and stops it on close.

Requests run concurrently (``max_concurrency``) and come back in input order. Transient failures
are retried with capped exponential backoff (:mod:`judge.backends.http.retry`); an item that still
fails, or gets a non-transient 4xx, becomes ``Generation(error=...)`` and the run goes on.

Options (``-B KEY=VALUE``): ``api_key_env`` (OPENAI_API_KEY), ``max_concurrency`` (8),
``timeout`` (120 s: the total for one attempt, headers and body, not per read),
``deadline`` (the total for one item, retries and waits included; default ``timeout`` times
the number of attempts), ``connect_timeout`` (10 s), ``max_retries`` (4),
``backoff_base`` (0.5 s), ``backoff_max`` (8 s), ``retry_after_max`` (60 s), ``structured``
(json_schema | json_object for llama.cpp, the default with launch=llama.cpp | structured_outputs
for vLLM), ``thinking``
(on/off: sent as ``chat_template_kwargs.enable_thinking``), ``max_tokens_field``,
``extra_body`` (JSON object merged into every request), ``launch`` (vllm | sglang | transformers
| llama.cpp), ``launch_args``, ``launch_command`` (a custom command with ``{port}``),
``launch_python``, ``launch_timeout`` (600 s), ``ready_path``; with ``launch=llama.cpp`` also
``threads`` (default: half the usable cores, at least 1) and ``chat_format`` (needed for a GGUF
without a chat template, e.g. ``gemma``).
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import Field, field_validator

from judge.backends.http.deadline import deadline, deadline_transport
from judge.backends.http.launcher import LocalServer, llama_cpp_args, server_command
from judge.backends.http.retry import RetryPolicy, is_transient_status, retry_after_seconds
from judge.backends.http.wire import MalformedResponse, StructuredForm, chat_body, parse_completion
from judge.backends.shared.chat import normalise_thinking
from judge.backends.shared.options import BackendOptions, json_object_option, parse_options
from judge.errors import ConfigError
from judge.net import is_loopback_host
from judge.types import Generation, GenerationRequest

log = logging.getLogger(__name__)


class OpenAIOptions(BackendOptions):
    """Options of the HTTP backend."""

    api_key_env: str | None = None
    max_concurrency: int = Field(8, ge=1, le=1024)
    timeout: float = Field(120.0, gt=0)
    deadline: float | None = Field(None, gt=0)
    connect_timeout: float = Field(10.0, gt=0)
    max_retries: int = Field(4, ge=0, le=20)
    backoff_base: float = Field(0.5, ge=0)
    backoff_max: float = Field(8.0, ge=0)
    retry_after_max: float = Field(60.0, ge=0)
    structured: StructuredForm = "json_schema"
    thinking: bool | Literal["auto", "on", "off"] = "auto"
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    extra_body: dict[str, Any] = Field(default_factory=dict)
    launch: str | None = None
    launch_args: str = ""
    launch_command: str | None = None
    launch_python: str | None = None
    launch_timeout: float = Field(600.0, gt=0)
    ready_path: str | None = None
    threads: int | None = Field(None, ge=1, le=1024)
    chat_format: str | None = None

    _json_object = field_validator("extra_body", mode="before")(json_object_option)


def create(target: str, **options: Any) -> OpenAIBackend:
    """Factory for ``openai:URL#MODEL`` (or ``openai:PATH`` with ``launch``)."""
    opts = parse_options(OpenAIOptions, "openai", options)
    location, _, model = target.partition("#")
    if not location:
        raise ConfigError("openai backend needs a URL: --backend openai:http://HOST:PORT/v1#MODEL")
    if opts.launch in _DEFAULT_FORMS and "structured" not in opts.model_fields_set:
        opts = opts.model_copy(update={"structured": _DEFAULT_FORMS[opts.launch]})
    for key in ("threads", "chat_format"):
        if getattr(opts, key) is not None and (opts.launch != "llama.cpp"
                                               or opts.launch_command):
            raise ConfigError(f"openai backend: -B {key} applies only with -B launch=llama.cpp "
                              "(pass other servers' flags in launch_args)")
    server = None
    if opts.launch or opts.launch_command:
        if location.startswith(("http://", "https://")):
            raise ConfigError("with launch=..., give the model path instead of a URL: "
                              "--backend openai:./my-model -B launch=vllm")
        server = _launch(location, model, opts)
        url = server.base_url
        model = model if model and opts.launch in _NAME_FLAGS else location
    else:
        url = location
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"openai backend: '{url}' is not an http(s) URL; to start a server "
                              "for a local model add -B launch=vllm (or transformers, sglang, "
                              "llama.cpp)")
    try:
        return OpenAIBackend(url, model or None, options=opts, server=server,
                             name=f"openai:{target}")
    except BaseException:
        if server is not None:
            server.stop()
        raise


#: The structured-output form a launched server accepts when ``structured`` is not given.
_DEFAULT_FORMS: dict[str, StructuredForm] = {"llama.cpp": "json_object"}

#: How each launchable server is told the model name requested with ``#NAME``.
_NAME_FLAGS = {"vllm": "--served-model-name", "sglang": "--served-model-name",
               "llama.cpp": "--model_alias"}


def _launch(model: str, name: str, opts: OpenAIOptions) -> LocalServer:
    extra = shlex.split(opts.launch_args)
    if opts.launch == "llama.cpp" and not opts.launch_command:
        extra = llama_cpp_args(model, extra, threads=opts.threads, chat_format=opts.chat_format)
    flag = _NAME_FLAGS.get(opts.launch or "")
    if name and flag and flag not in extra:
        extra += [flag, name]
    if opts.launch_command:
        command = [part.replace("{model}", model) for part in shlex.split(opts.launch_command)]
        ready = opts.ready_path or "/v1/models"
    else:
        assert opts.launch is not None
        command, ready = server_command(opts.launch, model, python=opts.launch_python,
                                        extra_args=extra)
        ready = opts.ready_path or ready
    return LocalServer(command, ready_path=ready, timeout=opts.launch_timeout).start()


def _is_loopback(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname or "")


class OpenAIBackend:
    """An OpenAI-compatible server behind the :class:`~judge.backends.base.TextBackend` protocol.

    Args:
        base_url: the API root, e.g. ``http://127.0.0.1:8000/v1``.
        model: the model name to send (None: omit it).
        options: validated :class:`OpenAIOptions`.
        server: a launched server to stop on :meth:`close`.
        name: the spec recorded in provenance.
        transport: an httpx transport (tests).
    """

    supports_structured = True
    supports_logprobs = True
    #: ``generate`` takes ``on_result`` and reports each request as it completes.
    reports_progress = True

    def __init__(self, base_url: str, model: str | None = None, *,
                 options: OpenAIOptions | None = None, server: LocalServer | None = None,
                 name: str | None = None, transport: httpx.BaseTransport | None = None) -> None:
        self.options = opts = options or OpenAIOptions()
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = name or f"openai:{base_url}" + (f"#{model}" if model else "")
        self.server = server
        thinking = normalise_thinking(opts.thinking)
        self._thinking = None if thinking == "auto" else thinking == "on"
        self.policy = RetryPolicy(max_retries=opts.max_retries, base=opts.backoff_base,
                                  cap=opts.backoff_max, retry_after_max=opts.retry_after_max)
        headers = {"content-type": "application/json"}
        key = self._api_key(opts.api_key_env)
        if key:
            headers["authorization"] = f"Bearer {key}"
        limits = httpx.Limits(max_connections=opts.max_concurrency,
                              max_keepalive_connections=opts.max_concurrency)
        trust_env = not _is_loopback(self.base_url)
        self.client = httpx.Client(
            headers=headers, trust_env=trust_env, limits=limits,
            transport=transport or deadline_transport(limits=limits, trust_env=trust_env),
            timeout=httpx.Timeout(opts.timeout, connect=opts.connect_timeout))
        self._pool = ThreadPoolExecutor(max_workers=opts.max_concurrency,
                                        thread_name_prefix="judge-http")
        self._sleep = time.sleep
        self._lock = threading.Lock()
        self._closed = False

    @staticmethod
    def _api_key(env_name: str | None) -> str | None:
        if env_name is None:
            return os.environ.get("OPENAI_API_KEY") or None
        value = os.environ.get(env_name)
        if not value:
            raise ConfigError(f"openai backend: api_key_env={env_name} but that environment "
                              "variable is not set")
        return value

    def generate(self, requests: Sequence[GenerationRequest],
                 on_result: Callable[[int, Generation], None] | None = None) -> list[Generation]:
        """Send every request (concurrently); results come back in input order.

        ``on_result(index, generation)`` is called in this thread as each one completes, in
        completion order, so a caller can write finished work before the batch ends.
        """
        if self._closed:
            raise ConfigError(f"backend '{self.name}' is closed")
        futures = [self._pool.submit(self._one, req) for req in requests]
        try:
            if on_result is not None:
                index = {f: n for n, f in enumerate(futures)}
                for f in as_completed(futures):
                    on_result(index[f], f.result())
            return [f.result() for f in futures]
        except BaseException:   # Ctrl-C, SIGTERM: the queued requests are not sent
            for f in futures:
                f.cancel()
            raise

    def _one(self, request: GenerationRequest) -> Generation:
        body = chat_body(request, model=self.model, structured=self.options.structured,
                         max_tokens_field=self.options.max_tokens_field,
                         thinking=self._thinking, extra=self.options.extra_body)
        url = self.base_url + "/chat/completions"
        started = time.perf_counter()
        opts = self.options
        attempts = self.policy.max_retries + 1
        budget_end = time.monotonic() + (opts.deadline or opts.timeout * attempts)
        last = "no attempt was made"
        for attempt in range(attempts):
            if self._closed:
                return Generation(error=f"backend '{self.name}' was closed before the request "
                                        "was answered", latency_s=time.perf_counter() - started)
            retry_after = None
            now = time.monotonic()
            attempt_end = min(now + opts.timeout, budget_end)
            try:
                with deadline(attempt_end):
                    response = self.client.post(url, json=body, timeout=httpx.Timeout(
                        attempt_end - now, connect=min(opts.connect_timeout, attempt_end - now)))
            except httpx.TimeoutException as exc:
                last = (f"{type(exc).__name__}: no complete answer within "
                        f"{attempt_end - now:.3g} s (timeout={opts.timeout:g} s per attempt)")
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc or 'connection failed'}"
            else:
                status = response.status_code
                if status == 200:
                    try:
                        fields = parse_completion(response.json())
                    except (ValueError, MalformedResponse) as exc:
                        last = f"malformed response body from {url}: {_short(str(exc))}"
                    else:
                        return Generation(**fields, latency_s=time.perf_counter() - started)
                elif (hint := _refused_form(body, response)) or not is_transient_status(status):
                    hint = hint or ("client errors are not retried; check the model name, "
                                    "options and schema")
                    return Generation(error=f"HTTP {status} from {url}: {_detail(response)} "
                                            f"({hint})", latency_s=time.perf_counter() - started)
                else:
                    last = f"HTTP {status} from {url}: {_detail(response)}"
                    retry_after = retry_after_seconds(response.headers)
            if attempt + 1 < attempts:
                wait = self.policy.delay(attempt, retry_after)
                if time.monotonic() + wait >= budget_end:
                    total = opts.deadline or opts.timeout * attempts
                    return Generation(
                        error=f"gave up after {attempt + 1} attempt(s): the item's deadline of "
                              f"{total:g} s (-B deadline) leaves no time to retry; last error: "
                              f"{last}", latency_s=time.perf_counter() - started)
                log.info("retrying in %.2f s after %s", wait, last)
                self._sleep(wait)
        return Generation(error=f"gave up after {attempts} attempt(s); last error: {last}",
                          latency_s=time.perf_counter() - started)

    def close(self) -> None:
        """Close connections and stop a launched server (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        # Queued requests are dropped; a launched server is stopped before waiting, so the
        # requests in flight fail at once instead of running to the end (after Ctrl-C).
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self.server is not None:
            self.server.stop()
        self._pool.shutdown(wait=True)
        self.client.close()


def _refused_form(body: dict[str, Any], response: httpx.Response) -> str | None:
    """What to do when the server refused the structured-output form sent, else None.

    llama.cpp's server answers ``json_schema`` with HTTP 500 (a validation error, not a fault),
    so retrying it would only delay every item's failure.
    """
    sent = body.get("response_format")
    if not isinstance(sent, dict) or "response_format" not in response.text:
        return None
    if sent.get("type") == "json_schema":
        return ("the server refused response_format type json_schema; not retried: use "
                "-B structured=json_object for llama.cpp's server, structured_outputs for vLLM")
    return (f"the server refused response_format type {sent.get('type')}; not retried: use "
            "-B structured=json_schema (or structured_outputs for vLLM)")


def _detail(response: httpx.Response) -> str:
    """The error message a server put in its body, shortened."""
    try:
        data = response.json()
    except ValueError:
        return _short(response.text) or response.reason_phrase
    if isinstance(data, dict):
        err = data.get("error", data.get("detail", data.get("message")))
        if isinstance(err, dict):
            err = err.get("message", err)
        if err is not None:
            return _short(str(err))
    return _short(json.dumps(data))


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
