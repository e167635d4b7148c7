"""The judge: principle + prompt + responses -> rendered prompt -> backend -> parsed Judgment."""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from judge._version import __version__
from judge.backends import Backend, load_backend
from judge.backends.base import ScoringBackend
from judge.errors import CapabilityError, ConfigError
from judge.hashing import json_hash
from judge.items import RankItem, coerce_item
from judge.logprob_scores import expected_score
from judge.ordering import kendall_tau, masked_ids, presentation_orders
from judge.parse import ParsedVerdict, parse_verdict
from judge.principles import Principle, PrincipleLibrary, resolve_principle
from judge.templates import PromptTemplate, load_template
from judge.types import (
    ChatMessage,
    Generation,
    GenerationRequest,
    Judgment,
    Mode,
    Provenance,
    Sampling,
)
from judge.verdict_schema import verdict_schema

log = logging.getLogger(__name__)

_DEFAULT_TEMPLATES: dict[str, str] = {
    "listwise": "listwise", "pointwise": "pointwise", "pairwise": "pairwise",
}


@dataclass
class _Run:
    """One rendered request of one item (one presentation order)."""

    item_index: int
    order: list[str]            # caller ids in shown order
    masked: dict[str, str]      # masked id -> caller id
    request: GenerationRequest


class Judge:
    """Ranks and scores responses under a principle with any backend.

    Args:
        backend: a backend object or a spec string (``"transformers:./model"``).
        principle: default principle (library id or free text) for items that carry none.
        seed: run seed; presentation orders derive from it and each item's content.
        sampling: decoding settings (greedy with seed 0 by default).
        shuffle: draw a seeded order per item; False shows responses in the given order.
        permutations: judge each item under this many distinct orders and aggregate.
        structured: constrain verdicts to the template's JSON schema (backend must support it).
        template: template name overriding the mode's default.
        templates_dir: a user folder whose templates override the shipped ones.
        library: principle library to resolve ids against (the shipped one by default).
        backend_options: options for a backend built from a spec string.

    Example:
        >>> from judge.backends.scripted import ScriptedBackend
        >>> j = Judge(ScriptedBackend(['{"score": 4}']), principle="Prefer concise answers.")
        >>> j.score_one(prompt="2+2?", response="4").scores
        {'0': 4.0}
    """

    def __init__(
        self, backend: Backend | str, *, principle: str | Principle | None = None,
        seed: int = 0, sampling: Sampling | None = None, shuffle: bool = True,
        permutations: int = 1, structured: bool = False, template: str | None = None,
        templates_dir: str | Path | None = None, library: PrincipleLibrary | None = None,
        backend_options: Mapping[str, Any] | None = None,
    ) -> None:
        if permutations < 1:
            raise ConfigError(f"permutations must be >= 1, got {permutations}")
        self.backend: Backend = (load_backend(backend, **dict(backend_options or {}))
                                 if isinstance(backend, str) else backend)
        self.library = library
        self.principle = (resolve_principle(principle, library)
                          if principle is not None else None)
        self.seed = seed
        self.sampling = sampling or Sampling(seed=seed)
        self.shuffle = shuffle
        self.permutations = permutations
        self.structured = structured
        self.template_override = template
        self.templates_dir = templates_dir
        self._templates: dict[str, PromptTemplate] = {}
        if structured and not isinstance(self.backend, ScoringBackend) and \
                not getattr(self.backend, "supports_structured", False):
            raise CapabilityError(
                f"backend '{self.backend.name}' cannot constrain outputs to a JSON schema; "
                "drop --structured or use transformers/vllm/openai"
            )

    # ------------------------------------------------------------------ public API
    def template_for(self, mode: Mode) -> PromptTemplate:
        """The template used for a mode (loaded once)."""
        name = self.template_override or _DEFAULT_TEMPLATES[mode]
        if name not in self._templates:
            tpl = load_template(name, self.templates_dir)
            if tpl.mode != mode:
                raise ConfigError(f"template '{name}' is a {tpl.mode} template; "
                                  f"a {mode} one is needed here")
            self._templates[name] = tpl
        return self._templates[name]

    def rank(self, items: Sequence[RankItem | Mapping[str, Any]],
             on_judgment: Callable[[int, Judgment], None] | None = None) -> list[Judgment]:
        """Rank each item's responses listwise (items with one response are scored pointwise).

        Args:
            items: :class:`RankItem` objects or dicts with ``prompt``, ``responses`` and
                optionally ``principle`` and ``id``.
            on_judgment: called with (index, judgment) as each item completes.

        Returns:
            One :class:`Judgment` per item, in input order.
        """
        coerced = [coerce_item(it) for it in items]
        modes: list[Mode] = ["pointwise" if len(it.responses) == 1 else "listwise"
                             for it in coerced]
        return self._judge(coerced, modes, on_judgment)

    def score(self, items: Sequence[RankItem | Mapping[str, Any]],
              on_judgment: Callable[[int, Judgment], None] | None = None) -> list[Judgment]:
        """Score each item's single response pointwise."""
        coerced = [coerce_item(it) for it in items]
        for n, it in enumerate(coerced):
            if len(it.responses) != 1:
                raise ConfigError(f"item {n}: pointwise scoring takes exactly one response, got "
                                  f"{len(it.responses)} (use rank() for several)")
        return self._judge(coerced, ["pointwise"] * len(coerced), on_judgment)

    def compare(self, items: Sequence[RankItem | Mapping[str, Any]]) -> list[Judgment]:
        """Judge pairs in both orders; disagreeing orders make a tie (flag position_inconsistent)."""
        coerced = [coerce_item(it) for it in items]
        for n, it in enumerate(coerced):
            if len(it.responses) != 2:
                raise ConfigError(f"item {n}: pairwise comparison takes exactly two responses")
        return self._judge(coerced, ["pairwise"] * len(coerced), None, both_orders=True)

    def rank_one(self, *, prompt: str, responses: Sequence[str] | Mapping[str, str],
                 principle: str | Principle | None = None) -> Judgment:
        """Rank one list of responses."""
        return self.rank([{"prompt": prompt, "responses": responses, "principle": principle}])[0]

    def score_one(self, *, prompt: str, response: str,
                  principle: str | Principle | None = None) -> Judgment:
        """Score one response."""
        return self.score([{"prompt": prompt, "responses": [response],
                            "principle": principle}])[0]

    def render(self, item: RankItem | Mapping[str, Any]) -> list[list[ChatMessage]]:
        """The exact messages the backend would receive for an item (one list per order)."""
        it = coerce_item(item)
        mode: Mode = "pointwise" if len(it.responses) == 1 else "listwise"
        return [list(r.request.messages) for r in self._runs_for(0, it, mode)]

    def close(self) -> None:
        """Release the backend."""
        self.backend.close()

    # ------------------------------------------------------------------ internals
    def principle_for(self, item: RankItem) -> Principle:
        """The principle an item is judged under (its own, else the judge's default)."""
        if item.principle is not None:
            return resolve_principle(item.principle, self.library)
        if self.principle is None:
            raise ConfigError("no principle: give one per item ('principle' field) or a default "
                              "(--principle / Judge(principle=...))")
        return self.principle

    def _item_key(self, principle: Principle, item: RankItem) -> str:
        return json_hash({"p": principle.hash, "q": item.prompt, "r": item.responses})

    def _runs_for(self, index: int, item: RankItem, mode: Mode,
                  both_orders: bool = False) -> list[_Run]:
        principle = self.principle_for(item)
        tpl = self.template_for(mode)
        ids = list(item.responses)
        count = 2 if both_orders else self.permutations
        orders = presentation_orders(ids, seed=self.seed, item_key=self._item_key(principle, item),
                                     count=count, shuffle=self.shuffle and not both_orders)
        runs = []
        for perm, order in enumerate(orders):
            shown = masked_ids(len(order))
            masked = dict(zip(shown, order, strict=True))
            variables: dict[str, Any] = {
                "principle": principle.text, "prompt": item.prompt,
                "scale_min": tpl.meta.scale[0], "scale_max": tpl.meta.scale[1],
            }
            if mode == "pointwise":
                variables["response"] = item.responses[order[0]]
            else:
                variables["responses"] = {m: item.responses[c] for m, c in masked.items()}
            schema = (verdict_schema(tpl.meta.answer, shown, tpl.meta.scale)
                      if self.structured else None)
            request = GenerationRequest(
                messages=tuple(tpl.render(**variables)), sampling=self.sampling,
                json_schema=schema, metadata={"item": index, "permutation": perm,
                                              "item_id": item.id},
            )
            runs.append(_Run(index, order, masked, request))
        return runs

    def _judge(self, items: list[RankItem], modes: list[Mode],
               on_judgment: Callable[[int, Judgment], None] | None,
               both_orders: bool = False) -> list[Judgment]:
        if isinstance(self.backend, ScoringBackend):
            return self._judge_direct(items, modes, on_judgment)
        runs_per_item = [self._runs_for(i, it, m, both_orders)
                         for i, (it, m) in enumerate(zip(items, modes, strict=True))]
        flat = [r for runs in runs_per_item for r in runs]
        generations = self.backend.generate([r.request for r in flat]) if flat else []
        if len(generations) != len(flat):
            raise CapabilityError(f"backend '{self.backend.name}' returned {len(generations)} "
                                  f"results for {len(flat)} requests")
        out: list[Judgment] = []
        cursor = 0
        for i, runs in enumerate(runs_per_item):
            gens = generations[cursor:cursor + len(runs)]
            cursor += len(runs)
            judgment = self._assemble(items[i], modes[i], runs, gens)
            out.append(judgment)
            if on_judgment:
                on_judgment(i, judgment)
        return out

    def _provenance(self, principle: Principle, mode: Mode | None, orders: list[list[str]],
                    direct: bool) -> Provenance:
        tpl = None if direct or mode is None else self.template_for(mode)
        return Provenance(
            principle=principle.ref(), template=tpl.name if tpl else None,
            template_hash=tpl.hash if tpl else None, backend=self.backend.name,
            model=self.backend.model, sampling=None if direct else self.sampling,
            seed=self.seed, order=orders, structured=self.structured and not direct,
            package_version=__version__,
        )

    def _assemble(self, item: RankItem, mode: Mode, runs: list[_Run],
                  gens: list[Generation]) -> Judgment:
        tpl = self.template_for(mode)
        parsed = [self._parse_one(run, gen, tpl) for run, gen in zip(runs, gens, strict=True)]
        principle = self.principle_for(item)
        raw: str | list[str] = gens[0].text if len(gens) == 1 else [g.text for g in gens]
        base: dict[str, Any] = {
            "mode": mode, "ids": list(item.responses), "raw": raw,
            "scale": (float(tpl.meta.scale[0]), float(tpl.meta.scale[1])), "item_id": item.id,
            "runs": len(runs),
            "provenance": self._provenance(principle, mode, [r.order for r in runs], False),
        }
        fields = _aggregate(parsed, mode, tpl.meta.scale)
        for key in ("scores", "logprob_scores"):  # report in the caller's id order
            if fields.get(key) is not None:
                fields[key] = {c: fields[key][c] for c in item.responses}
        return Judgment(**base, **fields)

    def _parse_one(self, run: _Run, gen: Generation, tpl: PromptTemplate
                   ) -> tuple[str, ParsedVerdict | None, Generation, _Run]:
        if gen.error is not None:
            return "backend_error", None, gen, run
        verdict = parse_verdict(gen.text, ids=list(run.masked), answer=tpl.meta.answer,
                                scale=tpl.meta.scale)
        verdict.flags.extend(f for f in gen.flags if f not in verdict.flags)
        if gen.finish_reason == "length":
            verdict.flags.append("truncated")
            tail = gen.text[verdict.verdict_span[1]:] if verdict.verdict_span else ""
            if verdict.status != "unparsed" and tail.strip(" \t\r\n`"):
                # the judge kept writing after this object and was cut off: what we found may be
                # a quoted or draft verdict rather than its final word
                verdict = ParsedVerdict(
                    status="unparsed", reasoning=verdict.reasoning, flags=verdict.flags,
                    problems=["cut off by the token limit while still writing after a "
                              "verdict-like object; it is not trusted as the final verdict"])
            elif verdict.status == "unparsed":
                verdict.problems.append("the answer was cut off by the token limit "
                                        f"(max_tokens={self.sampling.max_tokens})")
        return verdict.status, verdict, gen, run

    def _judge_direct(self, items: list[RankItem], modes: list[Mode],
                      on_judgment: Callable[[int, Judgment], None] | None) -> list[Judgment]:
        assert isinstance(self.backend, ScoringBackend)
        principles = [self.principle_for(it) for it in items]
        batch = [(p.text, it.prompt, list(it.responses.values()))
                 for p, it in zip(principles, items, strict=True)]
        # a backend may add per-item flags (a head: truncated, empty_response, out of
        # distribution) through score_batch_detailed
        detailed = getattr(self.backend, "score_batch_detailed", None)
        details = detailed(batch) if callable(detailed) and batch else None
        all_scores = ([d.scores for d in details] if details is not None
                      else self.backend.score_batch(batch) if batch else [])
        out = []
        for i, (it, p, scores) in enumerate(zip(items, principles, all_scores, strict=True)):
            ids = list(it.responses)
            by_id = {cid: float(s) for cid, s in zip(ids, scores, strict=True)}
            ranking = sorted(ids, key=lambda c: -by_id[c])
            judgment = Judgment(
                mode=modes[i], ids=ids, scores=by_id, ranking=ranking, status="ok", raw=None,
                scale=None, item_id=it.id, runs=1, parsed_runs=1,
                provenance=self._provenance(p, None, [ids], True),
                flags=list(getattr(details[i], "flags", [])) if details else [],
                problems=list(getattr(details[i], "problems", [])) if details else [],
            )
            out.append(judgment)
            if on_judgment:
                on_judgment(i, judgment)
        return out


def _aggregate(parsed: list[tuple[str, ParsedVerdict | None, Generation, _Run]],
               mode: Mode, scale: tuple[int, int]) -> dict[str, Any]:
    """Merge the permutation runs of one item into Judgment fields."""
    good: list[tuple[ParsedVerdict, Generation, _Run]] = [
        (v, g, r) for status, v, g, r in parsed
        if v is not None and status in ("ok", "repaired") and v.scores is not None
    ]
    problems: list[str] = []
    flags: list[str] = []
    reasoning_parts: list[str] = []
    for n, (_status, verdict, gen, _run) in enumerate(parsed):
        prefix = f"run {n + 1}: " if len(parsed) > 1 else ""
        if verdict is None:
            problems.append(f"{prefix}backend error: {gen.error}")
            continue
        problems.extend(prefix + p for p in verdict.problems)
        flags.extend(f for f in verdict.flags if f not in flags)
        if verdict.reasoning:
            reasoning_parts.append(verdict.reasoning)
    reasoning = "\n\n---\n\n".join(reasoning_parts) if reasoning_parts else None
    if not good:
        all_errors = all(v is None for _, v, _, _ in parsed)
        return {"status": "backend_error" if all_errors else "unparsed", "scores": None,
                "ranking": None, "problems": problems, "flags": flags, "reasoning": reasoning,
                "parsed_runs": 0}

    def to_caller(run: _Run, d: Mapping[str, float]) -> dict[str, float]:
        return {run.masked[m]: v for m, v in d.items()}

    score_runs = [to_caller(r, v.scores or {}) for v, _, r in good]
    ids = list(score_runs[0])
    scores = {c: statistics.fmean(s[c] for s in score_runs) for c in ids}
    if len(good) == 1:
        v, _, r = good[0]
        scores = score_runs[0]
        ranking = [r.masked[m] for m in v.ranking] if v.ranking else None
        consistency = None
    else:
        rankings = [[r.masked[m] for m in v.ranking] for v, _, r in good if v.ranking]
        position = {c: statistics.fmean(rk.index(c) for rk in rankings) if rankings else 0.0
                    for c in ids}
        ordered = sorted(ids, key=lambda c: (-scores[c], position[c]))
        tied = any(scores[a] == scores[b] and position[a] == position[b]
                   for a, b in combinations(ids, 2))
        ranking = None if tied else ordered
        consistency = (statistics.fmean(kendall_tau(a, b) for a, b in combinations(rankings, 2))
                       if len(rankings) >= 2 else None)
        if mode == "pairwise" and len({tuple(rk) for rk in rankings}) > 1:
            flags.append("position_inconsistent")
    logprob_runs = []
    for v, g, r in good:
        if g.logprobs and v.score_spans:
            exp = {m: expected_score(g.logprobs, g.text, span, scale)
                   for m, span in v.score_spans.items()}
            if all(x is not None for x in exp.values()):
                logprob_runs.append(to_caller(r, {m: float(x) for m, x in exp.items()
                                                  if x is not None}))
    logprob_scores = ({c: statistics.fmean(lr[c] for lr in logprob_runs) for c in ids}
                      if logprob_runs else None)
    statuses = [s for s, *_ in parsed]
    status = "ok" if all(s == "ok" for s in statuses) else "repaired"
    if len(good) < len(parsed):
        problems.append(f"{len(parsed) - len(good)} of {len(parsed)} permutation runs failed; "
                        "the verdict aggregates the rest")
    return {"status": status, "scores": scores, "ranking": ranking, "problems": problems,
            "flags": flags, "reasoning": reasoning, "consistency": consistency,
            "logprob_scores": logprob_scores, "parsed_runs": len(good)}

