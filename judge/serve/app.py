"""The reward server: FastAPI app with a score endpoint, OpenRLHF's endpoint and a health check.

=======================  =========================================================================
``GET /health``          the judge's state (``ok`` / ``degraded`` / ``failing``, failures in the
                         last 5 minutes, the last error), backend, batching and group counters
``POST /score``          ``{"principle"?, "prompt", "responses": [...]}`` ->
                         ``{"scores", "ranking", "uncertainty", "principle", "backend", ...}``
``POST /group_score``    one sample ``{"prompt", "response", "principle"?, "group"?,
                         "group_size"?}`` -> ``{"score", "judge_failed", "fallback", "status"}``,
                         judged listwise with its group (:mod:`judge.serve.group_routes`)
``POST /openrlhf``       OpenRLHF remote RM: ``{"query", "prompts", "labels"}`` ->
``POST /get_reward``     ``{"rewards", "scores", "extra_logs"}``; a request's samples that
                         share a prompt are judged together (:mod:`judge.serve.group_routes`)
=======================  =========================================================================

OpenRLHF requests are parsed by :mod:`judge.serve.openrlhf`, the same code
:meth:`judge.rl.Reward.openrlhf` uses. A sample's principle is the request's ``principle``,
else its label's, else the server's ``--principle``; with none, 422 names the sample. A sample
whose verdict could not be parsed gets ``unparsed_reward`` and ``judge_failed`` = 1.

Concurrent requests are micro-batched into one scoring call (:mod:`judge.serve.batcher`).
Bad input gets a 4xx whose ``error`` says what is wrong: 400 malformed JSON, 401 missing or
wrong bearer token, 408 a body that did not arrive in time, 413 body over the limit, 422 invalid
fields / too many items / unknown principle / duplicate keys or ids / text that is not valid
Unicode (a lone surrogate, with its field and position). 503 means the backend failed on this
request, 504 that scoring it took longer than ``request_timeout_s``.

One bad request never takes others down: text is checked before it is queued, the batcher
(:mod:`judge.serve.batcher`) hands a scorer failure only to the request that caused it, a big
request is scored in chunks interleaved with the others, and a request whose client went away
or whose deadline passed is not scored further.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from judge._version import __version__
from judge.errors import ArtifactError, BackendError, InputError, JudgeError
from judge.principles import Principle, resolve_principle
from judge.serve._schema import (
    ERROR_RESPONSES,
    BadRequest,
    ScoreRequest,
    body_schema,
    check_count,
    no_duplicate_keys,
)
from judge.serve.batcher import MicroBatcher
from judge.serve.group_routes import add_group_routes
from judge.serve.groups import GroupGatherer
from judge.serve.health import JudgeHealth
from judge.serve.scorers import Item, ItemResult, Scorer, merge_results, split_item
from judge.textcheck import find_bad_text

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[dict[str, Any]]],
                    Callable[[dict[str, Any]], Awaitable[None]]], Awaitable[None]]


class ServeSettings(BaseModel):
    """Server limits and defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    principle: str | None = None
    """Default principle (library id or text) for requests that name none."""
    token: str | None = None
    """Bearer token required on every endpoint but /health; None disables auth."""
    max_body_bytes: int = Field(1 << 20, ge=1024)
    max_items: int = Field(256, ge=1)
    """Most responses per /score request and samples per OpenRLHF request."""
    batch_window_ms: float = Field(5.0, ge=0)
    max_batch_items: int = Field(1024, ge=1)
    labels_are_principles: bool = False
    """OpenRLHF: read a plain-string label as the sample's principle."""
    unparsed_reward: float = 0.0
    """OpenRLHF and ``/group_score``: reward of a sample no judgment could score, listwise or
    pointwise (a number: OpenRLHF cannot train on null); always sent with ``judge_failed``."""
    request_timeout_s: float = Field(120.0, gt=0)
    """Compute deadline per request, queueing included: past it the answer is 504 and the
    request's remaining work is dropped."""
    chunk_responses: int = Field(32, ge=1)
    """Fair scheduling: most responses scored for one request per batcher call, so a request
    sent meanwhile waits for one short call, not for a whole big request."""
    body_timeout_s: float = Field(30.0, gt=0)
    """Longest time to receive a whole request body (slow senders get 408)."""
    group_size: int | None = Field(None, ge=1)
    """Group rewards: samples per group; a group is judged as soon as it has this many (None:
    when the window passes, unless the request gives ``group_size``)."""
    group_window_ms: float = Field(1000.0, ge=0)
    """Group rewards: longest wait after a group's first sample before judging what arrived
    (keep it under ``request_timeout_s``; ``judge serve`` refuses a longer one)."""


_BadRequest = BadRequest


async def _validated(request: Request, model: type[M]) -> M:
    """Parse the body as JSON whatever its content type (curl -d sends a form type) and
    validate it; failures become 400 / 422 with a readable message."""
    raw = await request.body()
    try:
        data = json.loads(raw, object_pairs_hook=no_duplicate_keys)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise _BadRequest(400, f"the body is not valid JSON ({exc})", []) from None
    except ValueError as exc:  # a duplicate key
        raise _BadRequest(422, str(exc), []) from None
    bad = find_bad_text(data)
    if bad is not None:
        raise _BadRequest(422, bad.message(), [{"loc": ["body", bad.field], "msg": bad.problem(),
                                                "type": "lone_surrogate"}])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [dict(e, loc=("body", *e["loc"])) for e in exc.errors()]
        status, message, detail = _validation_message(errors)
        raise _BadRequest(status, message, detail) from None


class _ClientGone(Exception):
    """The client disconnected before its answer was ready."""


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _validation_message(errors: list[dict[str, Any]]) -> tuple[int, str, list[dict[str, Any]]]:
    detail = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")),
               "type": str(e.get("type", ""))} for e in errors]
    if any(d["type"] == "json_invalid" for d in detail):
        return 400, "the body is not valid JSON", detail
    parts = []
    for d in detail[:5]:
        loc = ".".join(p for p in d["loc"] if p != "body") or "body"
        parts.append(f"{loc}: {d['msg']}")
    more = f" (+{len(detail) - 5} more)" if len(detail) > 5 else ""
    return 422, "; ".join(parts) + more, detail


class _Guard:
    """Pure-ASGI middleware: body-size limit (413) and bearer token (401)."""

    def __init__(self, app: ASGIApp, settings: ServeSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        token = self.settings.token
        if token and scope.get("path") != "/health":
            scheme, _, given = headers.get("authorization", "").strip().partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                    given.strip().encode(), token.encode()):
                await _send(send, 401, {"error": "missing or wrong bearer token (send "
                                                 "'Authorization: Bearer <token>')"},
                            [(b"www-authenticate", b"Bearer")])
                return
        limit = self.settings.max_body_bytes
        too_big = {"error": f"the body is larger than the limit of {limit} bytes "
                            "(--max-body-bytes); send fewer or shorter items"}
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send(send, 413, too_big)
            return
        body = bytearray()
        more = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.body_timeout_s
        while more:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                await _send(send, 408, {"error": "the request body did not arrive within "
                                                 f"{self.settings.body_timeout_s:g} s; send it "
                                                 "at once"}, [(b"connection", b"close")])
                return
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                await _send(send, 413, too_big)
                return
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            message: dict[str, Any] = await receive()
            return message

        await self.app(scope, replay, send)


async def _send(send: Any, status: int, payload: dict[str, Any],
                extra_headers: list[tuple[bytes, bytes]] | None = None) -> None:
    data = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(data)).encode()), *(extra_headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def create_app(scorer: Scorer, settings: ServeSettings | None = None) -> FastAPI:
    """The FastAPI app serving ``scorer``.

    At startup, a scorer with a ``warmup()`` method (a head loading its encoder) runs it before
    the first request is taken, so that request does not pay for loading the model.

    Args:
        scorer: a :class:`~judge.serve.scorers.Scorer` (see :func:`scorer_for`).
        settings: limits, auth and defaults.
    """
    settings = settings or ServeSettings()
    batcher: MicroBatcher[Item, ItemResult] = MicroBatcher(
        scorer.score_items, max_items=settings.max_batch_items,
        window_s=settings.batch_window_ms / 1000, quantum=settings.chunk_responses,
        cost=lambda item: len(item.responses))
    splittable = bool(getattr(scorer, "independent_responses", False))
    judge_health = JudgeHealth()
    gatherer = GroupGatherer(batcher.submit, window_s=settings.group_window_ms / 1000,
                             neutral=settings.unparsed_reward, max_size=settings.max_items,
                             record=judge_health.record)

    @lru_cache(maxsize=1024)
    def principle(value: str) -> Principle:
        return resolve_principle(value)

    default = principle(settings.principle) if settings.principle else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        warmup = getattr(scorer, "warmup", None)
        if callable(warmup):
            started = time.perf_counter()
            try:
                await asyncio.get_running_loop().run_in_executor(None, warmup)
            except Exception as exc:
                log.error("the server did not start: warming up backend %s failed (%s: %s). "
                          "Check the --backend target and its -B options.", scorer.name,
                          type(exc).__name__, exc)
                raise
            log.info("warmed up %s in %.1f s", scorer.name, time.perf_counter() - started)
        await batcher.start()
        try:
            yield
        finally:
            await gatherer.close()
            await batcher.close()

    app = FastAPI(title="judge reward server", version=__version__, lifespan=lifespan)
    app.state.batcher = batcher
    app.state.scorer = scorer
    app.state.settings = settings

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        status, message, detail = _validation_message(list(exc.errors()))
        return _error(status, message, detail=detail)

    @app.exception_handler(_BadRequest)
    async def _bad(_: Request, exc: _BadRequest) -> JSONResponse:
        return _error(exc.status, exc.message, detail=exc.detail)

    @app.exception_handler(_ClientGone)
    async def _gone(_: Request, exc: _ClientGone) -> JSONResponse:
        return _error(499, "the client closed the connection")  # nobody reads it

    @app.exception_handler(JudgeError)
    async def _judge_error(_: Request, exc: JudgeError) -> JSONResponse:
        if isinstance(exc, (BackendError, ArtifactError)):
            log.warning("backend failure: %s", exc)
            return _error(503, f"the scoring backend failed: {exc}")
        return _error(422, str(exc))

    async def scored(request: Request, items: list[Item]) -> list[ItemResult]:
        """Run items through the batcher under the request's deadline, stopping early when the
        client has gone; a scorer failure on this request alone becomes a BackendError (503)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.request_timeout_s
        task = asyncio.ensure_future(batcher.submit(items))
        try:
            while True:
                remaining = deadline - loop.time()
                done, _ = await asyncio.wait({task}, timeout=max(0.0, min(0.25, remaining)))
                if done:
                    break
                if await request.is_disconnected():
                    raise _ClientGone()
                if loop.time() >= deadline:
                    raise _BadRequest(504, "scoring this request took longer than the limit of "
                                      f"{settings.request_timeout_s:g} s (--request-timeout); "
                                      "send fewer or shorter responses, or raise the limit", [])
        finally:
            task.cancel()
        try:
            results = task.result()
        except JudgeError as exc:
            judge_health.record(False, f"{type(exc).__name__}: {exc}")
            raise
        except Exception as exc:  # isolated to this request by the batcher
            log.exception("scoring one request failed")
            judge_health.record(False, f"{type(exc).__name__}: {exc}")
            raise BackendError(f"{type(exc).__name__}: {exc}") from None
        bad = next((r for r in results if any(s is None for s in r.scores)), None)
        judge_health.record(bad is None, None if bad is None else
                            f"verdict {bad.status}: {'; '.join(bad.problems)}")
        return results

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": judge_health.state(), "backend": scorer.name, "model": scorer.model,
                "principle": default.id if default else None, "version": __version__,
                "judge": judge_health.as_dict(), "groups": gatherer.stats(),
                **batcher.stats.as_dict()}

    @app.post("/score", openapi_extra=body_schema(ScoreRequest), responses=ERROR_RESPONSES)
    async def score(request: Request) -> dict[str, Any]:
        body = await _validated(request, ScoreRequest)
        check_count(len(body.responses), settings.max_items, "responses")
        texts = body.texts()
        if body.principle:
            p = principle(body.principle)
        elif default is not None:
            p = default
        else:
            raise InputError("no principle: send \"principle\" or start the server with "
                             "--principle", field="principle")
        item = Item(prompt=body.prompt, responses=texts, principle=p)
        parts = split_item(item, settings.chunk_responses) if splittable else [item]
        result = merge_results(await scored(request, parts))
        valid = [(s, n) for n, s in enumerate(result.scores) if s is not None]
        ranking = [n for _, n in sorted(valid, key=lambda t: (-t[0], t[1]))]
        return {"scores": result.scores, "ranking": ranking, "uncertainty": result.uncertainty,
                "status": result.status, "problems": result.problems,
                "principle": {"id": p.id, "hash": p.hash}, "backend": scorer.name,
                "scale": list(scorer.scale) if scorer.scale else None,
                **({"ids": body.ids()} if body.ids() else {})}

    add_group_routes(app, settings=settings, gatherer=gatherer, resolve=principle,
                     validated=_validated)
    app.add_middleware(_Guard, settings=settings)
    return app

