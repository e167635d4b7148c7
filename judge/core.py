"""The judge: principle + prompt + responses -> rendered prompt -> backend -> parsed Judgment."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judge._version import __version__
from judge.backends import Backend, load_backend
from judge.backends.base import ScoringBackend
from judge.backends.registry import refuse_for_scoring
from judge.errors import CapabilityError, ConfigError
from judge.hashing import json_hash
from judge.identity import JudgeConfig, backend_fingerprint
from judge.items import Item, coerce_item, coerce_items
from judge.ordering import masked_ids, presentation_orders
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
from judge.verdict.aggregate import RunVerdict, aggregate, aggregate_each
from judge.verdict.parse import ParsedVerdict, parse_verdict
from judge.verdict.schema import verdict_schema

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
        pointwise: judge each response of a list on its own with the pointwise template (one
            request per response) and rank by those scores, logprob-weighted ones when every
            response has them; False (default) ranks a list listwise in one request.
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
        backend_options: Mapping[str, Any] | None = None, pointwise: bool = False,
    ) -> None:
        if permutations < 1:
            raise ConfigError(f"permutations must be >= 1, got {permutations}")
        if pointwise and permutations > 1:
            raise ConfigError("--permutations does not apply to --pointwise: each response is "
                              "judged alone, so there is no order to permute")
        refuse_for_scoring(backend, permutations=permutations, structured=structured,
                           template=template, templates_dir=templates_dir, sampling=sampling,
                           pointwise=pointwise)
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
        self.pointwise = pointwise
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

    def rank(self, items: Sequence[Item | Mapping[str, Any]],
             on_judgment: Callable[[int, Judgment], None] | None = None) -> list[Judgment]:
        """Rank each item's responses listwise (items with one response are scored pointwise).

        Args:
            items: :class:`Item` objects or dicts with ``prompt``, ``responses`` and
                optionally ``principle`` and ``id``.

        Raises:
            InputError: an item is malformed (its index and field are named).
            ConfigError: an item's principle is unknown or missing (its index is named).
            on_judgment: called with (index, judgment) as each item completes.

        Returns:
            One :class:`Judgment` per item, in input order.
        """
        coerced = self._coerce(items)
        modes: list[Mode] = ["pointwise" if self.pointwise or len(it.responses) == 1
                             else "listwise" for it in coerced]
        return self._judge(coerced, modes, on_judgment)

    def score(self, items: Sequence[Item | Mapping[str, Any]],
              on_judgment: Callable[[int, Judgment], None] | None = None) -> list[Judgment]:
        """Score each item's single response pointwise."""
        coerced = self._coerce(items)
        for n, it in enumerate(coerced):
            if len(it.responses) != 1:
                raise ConfigError(f"item {n}: pointwise scoring takes exactly one response, got "
                                  f"{len(it.responses)} (use rank() for several)")
        return self._judge(coerced, ["pointwise"] * len(coerced), on_judgment)

    def compare(self, items: Sequence[Item | Mapping[str, Any]]) -> list[Judgment]:
        """Judge pairs in both orders; disagreeing orders make a tie (flag position_inconsistent)."""
        if self.pointwise:
            raise ConfigError("compare() judges a pair in both orders with the pairwise "
                              "template; pointwise=True does not apply (use rank() for that)")
        coerced = self._coerce(items)
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

    def render(self, item: Item | Mapping[str, Any]) -> list[list[ChatMessage]]:
        """The exact messages the backend would receive for an item (one list per order)."""
        it = coerce_item(item)
        mode: Mode = "pointwise" if self.pointwise or len(it.responses) == 1 else "listwise"
        return [list(r.request.messages) for r in self._runs_for(0, it, mode)]

    def config(self) -> JudgeConfig:
        """Everything about this judge that can change a verdict (see :mod:`judge.identity`)."""
        direct = isinstance(self.backend, ScoringBackend)
        templates: dict[str, str | None] = {}
        modes: tuple[Mode, ...] = () if direct else ("listwise", "pointwise", "pairwise")
        for mode in modes:
            try:
                templates[mode] = self.template_for(mode).hash
            except ConfigError:  # an override template of another mode
                templates[mode] = None
        return JudgeConfig(
            backend=self.backend.name, model=self.backend.model,
            backend_fingerprint=backend_fingerprint(self.backend),
            template=None if direct else self.template_override or _DEFAULT_TEMPLATES["listwise"],
            template_hash=next((h for h in templates.values() if h), None), templates=templates,
            default_principle=self.principle.hash if self.principle else None,
            seed=self.seed, permutations=self.permutations, shuffle=self.shuffle,
            structured=self.structured, pointwise=self.pointwise and not direct,
            sampling=None if direct else self.sampling.model_dump(mode="json"))

    def fingerprint(self) -> str:
        """A hash of :meth:`config`: resumable runs reuse work only under the same one."""
        return self.config().fingerprint()

    def close(self) -> None:
        """Release the backend."""
        self.backend.close()

    # ------------------------------------------------------------------ internals
    def _coerce(self, items: Sequence[Item | Mapping[str, Any]]) -> list[Item]:
        """Validate a batch up front, naming the index of the first bad item."""
        coerced = coerce_items(items)
        for n, it in enumerate(coerced):
            try:
                self.principle_for(it)
            except ConfigError as exc:
                raise type(exc)(f"item {n}: {exc}") from None
        return coerced

    def principle_for(self, item: Item) -> Principle:
        """The principle an item is judged under (its own, else the judge's default)."""
        if item.principle is not None:
            return resolve_principle(item.principle, self.library)
        if self.principle is None:
            raise ConfigError("no principle: give one per item ('principle' field) or a default "
                              "(--principle / Judge(principle=...))")
        return self.principle

    def _item_key(self, principle: Principle, item: Item) -> str:
        return json_hash({"p": principle.hash, "q": item.prompt, "r": item.responses})

    def _runs_for(self, index: int, item: Item, mode: Mode,
                  both_orders: bool = False) -> list[_Run]:
        principle = self.principle_for(item)
        tpl = self.template_for(mode)
        ids = list(item.responses)
        count = 2 if both_orders else self.permutations
        if mode == "pointwise" and len(ids) > 1:   # each response alone: one run each
            orders = [[c] for c in ids]
        else:
            orders = presentation_orders(ids, seed=self.seed,
                                         item_key=self._item_key(principle, item),
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

    def _judge(self, items: list[Item], modes: list[Mode],
               on_judgment: Callable[[int, Judgment], None] | None,
               both_orders: bool = False) -> list[Judgment]:
        if isinstance(self.backend, ScoringBackend):
            return self._judge_direct(items, modes, on_judgment)
        runs_per_item = [self._runs_for(i, it, m, both_orders)
                         for i, (it, m) in enumerate(zip(items, modes, strict=True))]
        flat = [r for runs in runs_per_item for r in runs]
        done: dict[int, Judgment] = {}
        owner = [i for i, runs in enumerate(runs_per_item) for _ in runs]
        start = [0]
        for runs in runs_per_item:
            start.append(start[-1] + len(runs))
        arrived: dict[int, Generation] = {}

        def finish(i: int, gens: list[Generation]) -> None:
            done[i] = self._assemble(items[i], modes[i], runs_per_item[i], gens)
            if on_judgment:
                on_judgment(i, done[i])

        def on_result(n: int, gen: Generation) -> None:
            # an item is assembled (and reported) as soon as all of its runs are back
            arrived[n] = gen
            i = owner[n]
            if all(k in arrived for k in range(start[i], start[i + 1])):
                finish(i, [arrived[k] for k in range(start[i], start[i + 1])])

        requests = [r.request for r in flat]
        if not flat:
            generations: list[Generation] = []
        elif on_judgment and getattr(self.backend, "reports_progress", False):
            generations = self.backend.generate(requests, on_result=on_result)  # type: ignore[call-arg]
        else:
            generations = self.backend.generate(requests)
        if len(generations) != len(flat):
            raise CapabilityError(f"backend '{self.backend.name}' returned {len(generations)} "
                                  f"results for {len(flat)} requests")
        for i in range(len(runs_per_item)):
            if i not in done:
                finish(i, generations[start[i]:start[i + 1]])
        return [done[i] for i in range(len(runs_per_item))]

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

    def _assemble(self, item: Item, mode: Mode, runs: list[_Run],
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
        if mode == "pointwise" and len(item.responses) > 1:
            fields = aggregate_each(parsed, [r.order[0] for r in runs], tpl.meta.scale,
                                    list(item.responses))
        else:
            fields = aggregate(parsed, mode, tpl.meta.scale, list(item.responses))
        for key in ("scores", "logprob_scores"):  # report in the caller's id order
            if fields.get(key) is not None:
                fields[key] = {c: fields[key][c] for c in item.responses}
        return Judgment(**base, **fields)

    def _parse_one(self, run: _Run, gen: Generation, tpl: PromptTemplate) -> RunVerdict:
        if gen.error is not None:
            return RunVerdict(None, gen, run.masked)
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
                    problems=[("cut off by the token limit while still writing after a "
                              "verdict-like object; it is not trusted as the final verdict")])
            elif verdict.status == "unparsed":
                verdict.problems.append("the answer was cut off by the token limit "
                                        f"(max_tokens={self.sampling.max_tokens})")
        return RunVerdict(verdict, gen, run.masked)

    def _judge_direct(self, items: list[Item], modes: list[Mode],
                      on_judgment: Callable[[int, Judgment], None] | None) -> list[Judgment]:
        assert isinstance(self.backend, ScoringBackend)
        principles = [self.principle_for(it) for it in items]
        batch = [it.model_copy(update={"principle": p})
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

