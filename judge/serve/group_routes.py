"""The endpoints that judge samples in groups: ``POST /group_score`` and OpenRLHF's.

``POST /group_score`` ``{"prompt", "response", "principle"?, "group"?, "group_size"?}`` ->
``{"score", "judge_failed", "fallback", "status", "group_size", ...}``: one sample per call (veRL's
per-sample ``compute_score``, from many workers); samples of one group (``group`` id, else the
same prompt and principle) are gathered and judged listwise together
(:class:`~judge.serve.groups.GroupGatherer`).

``POST /get_reward`` (and ``/openrlhf``): the samples of one request that share prompt and
principle are judged listwise together at once; a sample whose label carries a group id
(``{"uid": ..., "group_size": ...}``) joins that group across concurrent requests. A sample no
judgment could score gets ``--unparsed-reward`` with ``judge_failed`` = 1 in ``extra_logs``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from fastapi import FastAPI, Request
from pydantic import BaseModel

from judge.errors import InputError, PrincipleError
from judge.principles import Principle
from judge.serve._schema import (
    ERROR_RESPONSES,
    BadRequest,
    GroupScoreRequest,
    body_schema,
    check_count,
)
from judge.serve.groups import GroupGatherer, SampleReward, group_key, judge_group, p_hash
from judge.serve.openrlhf import OpenRLHFRequest, format_response, label_group, parse_request

M = TypeVar("M", bound=BaseModel)


class Validate(Protocol):
    """Parses and validates a request body as ``model`` (400 / 422 on failure)."""

    async def __call__(self, request: Request, model: type[M]) -> M: ...


def add_group_routes(app: FastAPI, *, settings: Any, gatherer: GroupGatherer,
                     resolve: Callable[[str], Principle],
                     validated: Validate) -> None:
    """Register ``/group_score``, ``/openrlhf`` and ``/get_reward`` on ``app``.

    Args:
        settings: the server's :class:`~judge.serve.app.ServeSettings`.
        gatherer: gathers and judges groups (its ``score`` is the micro-batcher).
        resolve: a principle id or text -> :class:`Principle` (cached by the app).
        validated: parses and validates a request body (400 / 422 on failure).
    """
    scorer = app.state.scorer

    def principle_of(value: str | None, where: str, label: bool = False) -> Principle:
        value = value or settings.principle
        if value is None:
            put = ", put {\"principle\": ...} in labels[i]," if label else ""
            raise InputError(f"{where}: no principle — send \"principle\" in the body{put} or "
                             "start the server with --principle", field="principle")
        try:
            return resolve(value)
        except PrincipleError as exc:
            raise InputError(f"{where}: {exc}", field="principle") from None

    def check_size(size: int | None, field: str) -> None:
        if size is not None and size > settings.max_items:
            raise InputError(f"group_size {size} is over the limit of {settings.max_items} "
                             "(--max-items)", field=field)

    async def answered(waits: list[asyncio.Future[SampleReward]]) -> list[SampleReward]:
        """Wait for the samples' rewards under the request's deadline (504 past it)."""
        try:
            return list(await asyncio.wait_for(
                asyncio.gather(*(asyncio.shield(w) for w in waits)), settings.request_timeout_s))
        except TimeoutError:
            raise BadRequest(504, "judging this sample's group took longer than the limit of "
                             f"{settings.request_timeout_s:g} s (--request-timeout); raise the "
                             "limit or lower --group-window-ms", []) from None

    @app.post("/group_score", openapi_extra=body_schema(GroupScoreRequest),
              responses=ERROR_RESPONSES)
    async def group_score(request: Request) -> dict[str, Any]:
        body = await validated(request, GroupScoreRequest)
        check_size(body.group_size, "group_size")
        p = principle_of(body.principle, "sample")
        wait = gatherer.submit(group_key(body.prompt, p, body.group), body.prompt, p,
                               body.response, body.group_size or settings.group_size)
        r = (await answered([wait]))[0]
        return {"score": r.score, "judge_failed": r.judge_failed, "fallback": r.fallback,
                "status": r.status, "group_size": r.group_size,
                "principle": {"id": p.id, "hash": p.hash}, "backend": scorer.name,
                "scale": list(scorer.scale) if scorer.scale else None}

    async def openrlhf(request: Request) -> dict[str, Any]:
        body = await validated(request, OpenRLHFRequest)
        check_count(len(body.query), settings.max_items, "query")
        samples = parse_request(body, labels_are_principles=settings.labels_are_principles)
        principles = [principle_of(s.principle, f"sample {n}", True) for n, s in enumerate(samples)]
        waits: list[asyncio.Future[SampleReward] | None] = [None] * len(samples)
        local: dict[tuple[str, str], list[int]] = {}
        shared: list[tuple[int, str, int | None]] = []
        claimed: dict[str, tuple[str, str]] = {}
        # every sample is checked before any joins a shared group: a refused request leaves
        # nothing behind in other callers' groups
        for n, (s, p) in enumerate(zip(samples, principles, strict=True)):
            gid, size = label_group(body.labels[n] if body.labels else None, f"labels[{n}]")
            check_size(size, f"labels[{n}].group_size")
            if gid is None:
                local.setdefault((s.prompt, p_hash(p)), []).append(n)
                continue
            key = group_key(s.prompt, p, gid)
            gatherer.check(key, s.prompt, p)
            if claimed.setdefault(key, (s.prompt, p_hash(p))) != (s.prompt, p_hash(p)):
                raise InputError(f"labels[{n}]: group {gid!r} holds samples of different "
                                 "prompts or principles in this request", field="labels")
            shared.append((n, key, size))
        for n, key, size in shared:
            s, p = samples[n], principles[n]
            waits[n] = gatherer.submit(key, s.prompt, p, s.response, size or settings.group_size)
        for idx in local.values():
            n0 = idx[0]
            task = asyncio.ensure_future(judge_group(
                gatherer.score, samples[n0].prompt, principles[n0],
                [samples[n].response for n in idx], settings.unparsed_reward, gatherer.record))
            for k, n in enumerate(idx):
                waits[n] = _pick(task, k)
        got = await answered([w for w in waits if w is not None])
        logs: dict[str, list[float]] = {}
        if got and all(r.uncertainty is not None for r in got):
            logs["judge_uncertainty"] = [float(r.uncertainty or 0.0) for r in got]
        return format_response(samples, [r.score for r in got],
                               failed=[r.judge_failed for r in got],
                               scales=[scorer.scale] * len(samples), extra_logs=logs)

    for path in ("/openrlhf", "/get_reward"):
        app.post(path, openapi_extra=body_schema(OpenRLHFRequest),
                 responses=ERROR_RESPONSES)(openrlhf)


def _pick(task: asyncio.Future[list[SampleReward]], k: int) -> asyncio.Future[SampleReward]:
    """A future of the ``k``-th reward of a group's task."""
    out: asyncio.Future[SampleReward] = asyncio.get_running_loop().create_future()

    def done(t: asyncio.Future[list[SampleReward]]) -> None:
        if out.done():
            return
        if t.cancelled():
            out.cancel()
        elif (exc := t.exception()) is not None:
            out.set_exception(exc)
        else:
            out.set_result(t.result()[k])

    task.add_done_callback(done)
    return out
