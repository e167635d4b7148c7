"""Turn a judge's raw text into a verdict without ever inventing a number.

Rules, in order:

1. Thinking is split off first: ``<think>…</think>`` (or ``<thinking>``) becomes ``reasoning``; the
   verdict must come *after* the last closing tag, so drafts inside the thinking never win. An
   opening tag that never closes is ``unparsed``.
2. The verdict is the **last** complete JSON object after the thinking that has verdict keys;
   example objects earlier in the prose lose to it. A verdict-looking object that starts after it
   but never closes (truncated output) makes the whole answer ``unparsed``.
3. Safe repairs give status ``repaired`` and a note: code fences or prose around the object,
   trailing commas, single-quoted strings, unquoted keys, key spelling variants such as
   ``best-to-worse``, numeric strings such as ``"4"``, and a missing ranking derived from distinct
   scores.
4. Validation: unknown, duplicated or missing ids, scores that are not finite numbers inside the
   scale, and malformed rankings are ``unparsed`` (scores and ranking None, raw text kept). A
   ranking that contradicts the scores is kept but flagged ``ranking_contradicts_scores``.

>>> v = parse_verdict('{"scores": {"model-1": 2, "model-2": 5}, "best-to-worst": ["model-2", "model-1"]}',
...                   ids=["model-1", "model-2"])
>>> v.status, v.scores, v.ranking
('ok', {'model-1': 2, 'model-2': 5}, ['model-2', 'model-1'])
>>> parse_verdict("I think model-2 is better.", ids=["model-1", "model-2"]).status
'unparsed'
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from judge.verdict.lenient_json import Arr, JSONFail, Leaf, Obj, parse_object_at

Answer = Literal["scores-ranking", "score", "winner"]
ParseStatus = Literal["ok", "repaired", "unparsed"]

_OPEN_THINK = re.compile(r"<(think|thinking)>", re.IGNORECASE)
_CLOSE_THINK = re.compile(r"</(think|thinking)>", re.IGNORECASE)
_FENCE = re.compile(r"^\s*```[a-zA-Z]*\s*$|^\s*```\s*$")
_VERDICT_KEY = re.compile(r"['\"]?(scores?|best[\s_-]*to[\s_-]*wors[te]?|better|winner)\b",
                          re.IGNORECASE)
_PARTIAL_KEY = re.compile(r"['\"]?[A-Za-z_-]*")
_QUOTE = re.compile(r'(?<!\\)["\u201c\u201d]')
# A '{' that cannot start an object (what follows is neither a key nor '}'): skipped without a
# parse attempt. It only rejects what the parser would reject, and never a cut-off start.
_NOT_AN_OBJECT = re.compile(r"""\{\s*(?:[^\s}"'A-Za-z_]|"(?:[^"\\]|\\.)*"\s*[^\s:]"""
                            r"""|'(?:[^'\\]|\\.)*'\s*[^\s:])""", re.DOTALL)

# normalised key -> canonical key
_KEYS = {
    "scores": "scores", "score": "score", "better": "better", "winner": "better",
    "besttoworst": "best-to-worst", "besttoworse": "best-to-worst", "ranking": "best-to-worst",
}
_EXACT = {"scores", "score", "better", "best-to-worst"}
_REASONING_KEYS = {"reasoning", "reason", "rationale", "explanation", "thoughts", "analysis"}


@dataclass
class ParsedVerdict:
    """What the parser found, keyed by the ids the judge was shown."""

    status: ParseStatus
    scores: dict[str, float] | None = None
    ranking: list[str] | None = None
    winner: str | None = None
    """Pairwise answers only: an id or ``"tie"``."""
    reasoning: str | None = None
    problems: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    score_spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Character span of each score literal in the raw text (for logprob scoring)."""
    verdict_span: tuple[int, int] | None = None
    """Character span of the verdict object in the raw text."""


def _norm_key(key: str) -> str:
    return re.sub(r"[^a-z]", "", key.lower())


def split_thinking(text: str) -> tuple[str | None, int, str | None]:
    """Split off the thinking block.

    Returns:
        ``(reasoning, answer_start, problem)``: the thinking text (None if there is none), the
        offset where the answer region starts, and a problem when thinking never closes.

    >>> split_thinking("<think>hmm</think>{}")
    ('hmm', 18, None)
    """
    closes = _unquoted_closes(text)
    opening = _OPEN_THINK.search(text)
    if not closes:
        if opening:
            return text[opening.end():].strip() or None, len(text), \
                "thinking never closes (no </think>): the answer was cut off or never written"
        return None, 0, None
    last = closes[-1]
    begin = opening.end() if opening and opening.start() < last.start() else 0
    reasoning = text[begin:last.start()].strip()
    return reasoning or None, last.end(), None


def _unquoted_closes(text: str) -> list[re.Match[str]]:
    """Closing tags that are not inside a double-quoted span on their line (a quoted
    ``</think>``: the judge citing a response that tries to close the thinking block).

    A tag is quoted when an odd number of quotes precede it on its line (counted from the line
    start or the last opening tag on it) *and* an odd number follow it on the line: the quote
    opened before it closes after it. A lone inch mark (``5' 11" tall</think>{...}``) has no
    partner after the tag, so that tag counts. One pass with sorted positions: linear time.
    """
    closes = list(_CLOSE_THINK.finditer(text))
    if not closes:
        return closes
    quotes = [m.start() for m in _QUOTE.finditer(text)]
    newlines = [m.start() for m in re.finditer("\n", text)]
    opens = [m.end() for m in _OPEN_THINK.finditer(text)]

    def count(lo: int, hi: int) -> int:
        return bisect.bisect_left(quotes, hi) - bisect.bisect_left(quotes, lo)

    kept = []
    for m in closes:
        n = bisect.bisect_left(newlines, m.start())
        line_start = newlines[n - 1] + 1 if n else 0
        line_end = newlines[n] if n < len(newlines) else len(text)
        k = bisect.bisect_right(opens, m.start()) - 1
        begin = max(line_start, opens[k]) if k >= 0 else line_start
        if count(begin, m.start()) % 2 == 1 and count(m.end(), line_end) % 2 == 1:
            continue
        kept.append(m)
    return kept


def _candidates(text: str, start: int) -> tuple[list[tuple[Obj, set[str]]], list[int]]:
    """Complete objects after ``start`` (outermost only), and starts of objects cut off by the
    end of the text."""
    found: list[tuple[Obj, set[str]]] = []
    cut_off: list[int] = []
    last_end = start
    i = text.find("{", start)
    while i != -1:
        if i >= last_end and not _NOT_AN_OBJECT.match(text, i):
            try:
                obj, repairs = parse_object_at(text, i)
            except JSONFail as exc:
                if exc.at_end:
                    cut_off.append(i)
                elif exc.too_deep_at is not None:  # the objects inside are too deep as well
                    last_end = exc.too_deep_at
            else:
                found.append((obj, repairs))
                last_end = obj.end
        i = text.find("{", max(i + 1, last_end))
    return found, cut_off


def _could_be_verdict(fragment: str) -> bool:
    """Whether an object cut off by the end of the text may have been a verdict."""
    body = fragment[1:].strip()
    return (not body or bool(_PARTIAL_KEY.fullmatch(body))
            or bool(_VERDICT_KEY.search(body)))


def _is_verdict(obj: Obj) -> bool:
    return any(_norm_key(k) in _KEYS for k, _ in obj.pairs)


def _surroundings(text: str, start: int, obj: Obj) -> str | None:
    before = text[start:obj.start]
    after = text[obj.end:]
    lines = [ln for ln in (before + "\n" + after).splitlines() if ln.strip()]
    if not lines:
        return None
    if all(_FENCE.match(ln) for ln in lines):
        return "verdict wrapped in a code fence"
    return "prose around the verdict"


def _unparsed(reasoning: str | None, *problems: str, flags: list[str] | None = None
              ) -> ParsedVerdict:
    return ParsedVerdict(status="unparsed", reasoning=reasoning, problems=list(problems),
                         flags=flags or [])


def parse_verdict(
    text: str, *, ids: list[str], answer: Answer = "scores-ranking",
    scale: tuple[float, float] = (1, 5),
) -> ParsedVerdict:
    """Parse a judge's raw text.

    Args:
        text: the raw completion.
        ids: the ids the judge was shown (e.g. ``["model-1", "model-2"]``).
        answer: the answer shape the template asked for.
        scale: inclusive score range.

    Returns:
        A :class:`ParsedVerdict`; never raises on any input text.
    """
    try:
        return _parse(text, ids, answer, scale)
    except RecursionError:  # pragma: no cover - lenient_json caps depth, belt and braces
        return _unparsed(None, "verdict nested too deeply to read")


def _parse(text: str, ids: list[str], answer: Answer, scale: tuple[float, float]
           ) -> ParsedVerdict:
    reasoning, start, think_problem = split_thinking(text)
    if think_problem:
        return _unparsed(reasoning, think_problem, flags=["unclosed_thinking"])
    objects, cut_off = _candidates(text, start)
    verdicts = [(o, r) for o, r in objects if _is_verdict(o)]
    last_end = verdicts[-1][0].end if verdicts else start
    if any(_could_be_verdict(text[i:]) for i in cut_off if i >= last_end):
        what = "a later verdict JSON" if verdicts else "the verdict JSON"
        return _unparsed(reasoning, f"{what} is cut off before it closes (truncated output)",
                         flags=["truncated_json"])
    if not verdicts:
        nested = any(_VERDICT_KEY.search(text[o.start:o.end]) for o, _ in objects)
        return _unparsed(reasoning, "no verdict JSON found after the thinking" +
                         (" (verdict keys appear only nested inside another object)"
                          if nested else ""))
    obj, repairs = verdicts[-1]
    notes = sorted(repairs)
    around = _surroundings(text, start, obj)
    if around:
        notes.append(around)
    if reasoning is None:
        reasoning = _inline_reasoning(obj)
    result = _read(obj, ids, answer, scale, notes)
    result.reasoning = reasoning
    result.verdict_span = (obj.start, obj.end)
    return result


def _inline_reasoning(obj: Obj) -> str | None:
    for key, value in obj.pairs:
        if _norm_key(key) in _REASONING_KEYS and isinstance(value, Leaf) \
                and isinstance(value.value, str):
            return value.value
    return None


def _fields(obj: Obj, notes: list[str]) -> tuple[dict[str, Any], str | None]:
    fields: dict[str, Any] = {}
    for key, value in obj.pairs:
        canonical = _KEYS.get(_norm_key(key))
        if canonical is None:
            continue
        if canonical in fields:
            return fields, f"the verdict has the key '{canonical}' twice"
        if key not in _EXACT:
            notes.append(f"key '{key}' read as '{canonical}'")
        fields[canonical] = value
    return fields, None


def _number(leaf: Any, where: str, scale: tuple[float, float], notes: list[str]
            ) -> tuple[float | None, str | None]:
    if not isinstance(leaf, Leaf) or isinstance(leaf.value, bool):
        return None, f"{where} is not a number"
    value = leaf.value
    if isinstance(value, str):
        try:
            value = float(value.strip()) if value.strip() else None
        except ValueError:
            value = None
        if value is None or not re.fullmatch(r"\s*-?[0-9]+(\.[0-9]+)?\s*", leaf.value):
            return None, f"{where} is not a number ({leaf.value!r})"
        notes.append(f"{where} given as a string")
        value = int(value) if float(value).is_integer() and "." not in leaf.value else value
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return None, f"{where} is not a finite number"
    if not scale[0] <= value <= scale[1]:
        return None, f"{where} = {value} is outside the scale {scale[0]:g}-{scale[1]:g}"
    return value, None


def _read(obj: Obj, ids: list[str], answer: Answer, scale: tuple[float, float],
          notes: list[str]) -> ParsedVerdict:
    fields, dup = _fields(obj, notes)
    if dup:
        return _unparsed(None, dup)
    if answer == "score":
        return _read_score(fields, ids, scale, notes)
    if answer == "winner":
        return _read_winner(fields, ids, notes)
    return _read_listwise(fields, ids, scale, notes)


def _done(notes: list[str], **kw: Any) -> ParsedVerdict:
    return ParsedVerdict(status="repaired" if notes else "ok", problems=list(notes), **kw)


def _read_score(fields: dict[str, Any], ids: list[str], scale: tuple[float, float],
                notes: list[str]) -> ParsedVerdict:
    if len(ids) != 1:
        return _unparsed(None, f"a single-score answer cannot score {len(ids)} responses")
    leaf = fields.get("score")
    if leaf is None and isinstance(fields.get("scores"), Obj):
        # a listwise-shaped answer for one response is acceptable when keyed by its id
        inner = fields["scores"]
        if [k for k, _ in inner.pairs] == ids:
            leaf = inner.pairs[0][1]
            notes.append("single score given in listwise shape")
    if leaf is None:
        return _unparsed(None, "the verdict has no 'score'")
    value, err = _number(leaf, "score", scale, notes)
    if err:
        return _unparsed(None, err)
    assert value is not None
    return _done(notes, scores={ids[0]: value}, ranking=list(ids),
                 score_spans={ids[0]: (leaf.start, leaf.end)})


def _read_winner(fields: dict[str, Any], ids: list[str], notes: list[str]) -> ParsedVerdict:
    leaf = fields.get("better")
    if not isinstance(leaf, Leaf) or not isinstance(leaf.value, str):
        return _unparsed(None, "the verdict has no 'better' id")
    value = leaf.value.strip()
    if value.lower() == "tie":
        return _done(notes, winner="tie", scores={i: 0.5 for i in ids}, ranking=None)
    if value not in ids:
        return _unparsed(None, f"'better' names unknown id {value!r} (shown: {ids})")
    loser = next(i for i in ids if i != value)
    return _done(notes, winner=value, scores={value: 1.0, loser: 0.0}, ranking=[value, loser])


def _read_listwise(fields: dict[str, Any], ids: list[str], scale: tuple[float, float],
                   notes: list[str]) -> ParsedVerdict:
    scores_obj = fields.get("scores")
    if scores_obj is None:
        return _unparsed(None, "the verdict has no 'scores'")
    if not isinstance(scores_obj, Obj):
        return _unparsed(None, "'scores' is not an object of id -> score")
    scores: dict[str, float] = {}
    spans: dict[str, tuple[int, int]] = {}
    for key, leaf in scores_obj.pairs:
        if key not in ids:
            return _unparsed(None, f"'scores' has unknown id {key!r} (shown: {ids})")
        if key in scores:
            return _unparsed(None, f"'scores' has id {key!r} twice")
        value, err = _number(leaf, f"score of {key}", scale, notes)
        if err:
            return _unparsed(None, err)
        assert value is not None
        scores[key] = value
        spans[key] = (leaf.start, leaf.end)
    missing = [i for i in ids if i not in scores]
    if missing:
        return _unparsed(None, f"'scores' is missing id(s) {missing}")
    flags: list[str] = []
    ranking_node = fields.get("best-to-worst")
    if ranking_node is None:
        values = list(scores.values())
        if len(set(values)) != len(values):
            notes.append("no ranking given and tied scores leave the order open")
            return _done(notes, scores=scores, ranking=None, score_spans=spans,
                         flags=["ranking_missing"])
        notes.append("ranking derived from distinct scores")
        derived = sorted(ids, key=lambda i: -scores[i])
        return _done(notes, scores=scores, ranking=derived, score_spans=spans)
    ranking, err = _ranking(ranking_node, ids)
    if err or ranking is None:
        return _unparsed(None, err or "'best-to-worst' is malformed")
    conflicts = [(a, b) for n, a in enumerate(ranking) for b in ranking[n + 1:]
                 if scores[a] < scores[b]]
    result = _done(notes, scores=scores, ranking=ranking, score_spans=spans, flags=flags)
    if conflicts:  # kept, but flagged: not a repair, a warning the caller must see
        a, b = conflicts[0]
        result.flags.append("ranking_contradicts_scores")
        result.problems = [*notes, (f"ranking contradicts scores: {a} ({scores[a]:g}) is "
                                    f"ranked above {b} ({scores[b]:g}); {len(conflicts)} "
                                    "pair(s) disagree")]
    return result


def _ranking(node: Any, ids: list[str]) -> tuple[list[str] | None, str | None]:
    if not isinstance(node, Arr):
        return None, "'best-to-worst' is not a list of ids"
    ranking: list[str] = []
    for item in node.items:
        if not isinstance(item, Leaf) or not isinstance(item.value, str):
            return None, "'best-to-worst' holds something that is not an id"
        if item.value not in ids:
            return None, f"'best-to-worst' has unknown id {item.value!r} (shown: {ids})"
        if item.value in ranking:
            return None, f"'best-to-worst' lists {item.value!r} twice"
        ranking.append(item.value)
    missing = [i for i in ids if i not in ranking]
    if missing:
        return None, f"'best-to-worst' is missing id(s) {missing}"
    return ranking, None
