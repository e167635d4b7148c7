"""Another judge's verdicts in, the project's label records out (``judge distill import``).

Every imported verdict becomes a :class:`judge.types.Judgment` and goes through
:func:`judge.record.labelled_row`, the function ``judge label`` uses, so imported and
home-made labels share one record shape and one reader (``judge distill fit``). The teacher is
named in provenance: backend ``import``, model = the teacher (e.g.
``weighted_alpaca_eval_gpt4_turbo``).

**Soft preferences.** A pairwise verdict that is a probability (AlpacaEval 2.0 reads
P(output_2 is better) from the judge's logprobs) is stored as ``scores`` = the probability that
each response is preferred (the two sum to 1), ``scale`` = ``[0, 1]`` and the flag
``preference``. Ties are 0.5 / 0.5; hard picks are 1 / 0. The distillation reader turns such a
record into one pair with a soft target instead of a thresholded win (see
:mod:`judge.distill.labels`).

Sources (``--format``):

* ``alpaca-eval``: an AlpacaEval ``annotations.json(.gz)`` list (``instruction``, ``output_1``,
  ``output_2``, ``generator_1/2``, ``annotator``, ``preference``: 1..2 soft or 1 / 2 hard,
  0 tie, null unparsed). The answer set (``generator_2``) is kept for a split by policy.
* ``prometheus``: a Prometheus ``*_eval.json`` (MT-Bench / Vicuna-Bench absolute grading:
  the instance rubric is the principle, the label the mean of GPT-4's scores, responses to the
  same question and rubric form one listwise row) or ``hhh_alignment_eval.json`` (human
  chosen/rejected per aspect, imported as hard preferences).
* ``jsonl``: rows of ``prompt``, ``responses`` (list or id -> text), ``principle`` and one of
  ``scores`` (list or id -> score; ``scale`` optional), ``preference`` (P that the first
  response beats the second) or ``ranking`` (best-to-worst ids); ``teacher`` optional.

Rows that cannot be read come out as ``invalid_input`` records naming file, row and field; a
verdict the teacher failed to give comes out ``unparsed``. Nothing is dropped.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from judge._version import __version__
from judge.errors import InputError
from judge.items import Item
from judge.principles import Principle, resolve_principle
from judge.record import invalid_record, labelled_row
from judge.types import Judgment, Provenance

FORMATS = ("alpaca-eval", "prometheus", "jsonl")
PREFERENCE_FLAG = "preference"
#: AlpacaEval's judges ask which output is better "from a human perspective".
ALPACA_PRINCIPLE = ("Prefer the response a careful human evaluator would choose: the one that "
                    "answers the instruction most helpfully, accurately and relevantly.")

_HEADING = re.compile(r"^###\s*(.+?):\s*$", re.MULTILINE)
_ANCHOR = re.compile(r"^Score (\d):\s*(.*)$", re.MULTILINE)


def _provenance(principle: Principle, teacher: str, ids: list[str]) -> Provenance:
    return Provenance(principle=principle.ref(), template=None, template_hash=None,
                      backend="import", model=teacher, sampling=None, seed=0, order=[ids],
                      package_version=__version__)


def preference_judgment(ids: list[str], p_first: float | None, principle: Principle,
                        teacher: str, problem: str | None = None) -> Judgment:
    """A pairwise verdict: P(``ids[0]`` is preferred to ``ids[1]``), or None when unparsed."""
    prov = _provenance(principle, teacher, ids)
    if p_first is None:
        return Judgment(mode="listwise", ids=ids, status="unparsed", provenance=prov,
                        problems=[problem or "the teacher gave no preference"], parsed_runs=0)
    scores = {ids[0]: p_first, ids[1]: 1.0 - p_first}
    ranking = sorted(ids, key=lambda c: -scores[c])
    return Judgment(mode="listwise", ids=ids, scores=scores, ranking=ranking, status="ok",
                    flags=[PREFERENCE_FLAG], scale=(0.0, 1.0), provenance=prov, parsed_runs=1)


def scores_judgment(ids: list[str], scores: list[float], principle: Principle, teacher: str,
                    scale: tuple[float, float] | None) -> Judgment:
    """A verdict of one score per response (pointwise when there is one response)."""
    by_id = dict(zip(ids, scores, strict=True))
    return Judgment(mode="pointwise" if len(ids) == 1 else "listwise", ids=ids, scores=by_id,
                    ranking=sorted(ids, key=lambda c: -by_id[c]), status="ok", scale=scale,
                    provenance=_provenance(principle, teacher, ids), parsed_runs=1)


def record(row: dict[str, Any], judgment: Judgment, principle: Principle) -> dict[str, Any]:
    """The labelled record: the row's own columns plus the record ``judge label`` writes."""
    ident = row.get("id")
    item = Item(prompt=row["prompt"], responses=row["responses"], principle=principle,
                id=None if ident is None else str(ident))
    return labelled_row(row, item, judgment, principle)


def _load_json(path: Path) -> Any:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read as JSON: {exc}", path=str(path)) from None


def alpaca_preference(value: Any) -> float | None:
    """P(output_1 is preferred) from an AlpacaEval ``preference`` (1..2, 0 = tie, null).

    >>> alpaca_preference(1.25), alpaca_preference("2"), alpaca_preference(0), alpaca_preference(None)
    (0.75, 0.0, 0.5, None)
    """
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number == 0.0:
        return 0.5
    if not 1.0 <= number <= 2.0 or math.isnan(number):
        return None
    return 2.0 - number


def import_alpaca_eval(path: Path, principle: Principle) -> Iterator[dict[str, Any]]:
    """Records from one AlpacaEval annotations file (see the module docstring)."""
    rows = _load_json(path)
    if not isinstance(rows, list):
        raise InputError("expected a JSON list of annotations", path=str(path))
    for n, row in enumerate(rows):
        try:
            if not isinstance(row, Mapping):
                raise InputError("expected an object")
            for key in ("instruction", "output_1", "output_2"):
                if not isinstance(row.get(key), str):
                    raise InputError("is required and must be a string", field=key)
        except InputError as exc:
            yield {"id": f"{path.name}:{n}", **invalid_record(
                f"{path}: row {n}: {'field ' + repr(exc.field) + ': ' if exc.field else ''}"
                f"{exc.detail}")}
            continue
        teacher = str(row.get("annotator") or "alpaca_eval")
        g1, g2 = str(row.get("generator_1") or "output_1"), str(row.get("generator_2") or
                                                                   "output_2")
        base = {"id": f"{g2}:{n}", "prompt": row["instruction"],
                "responses": {"output_1": row["output_1"], "output_2": row["output_2"]},
                "principle": principle.text, "answer_set": g2,
                "generators": {"output_1": g1, "output_2": g2},
                "dataset": row.get("dataset")}
        p = alpaca_preference(row.get("preference"))
        problem = f"unreadable preference {row.get('preference')!r}" if p is None else None
        yield record(base, preference_judgment(["output_1", "output_2"], p, principle, teacher,
                                               problem), principle)


def parse_prometheus(instruction: str) -> tuple[str, str, Principle]:
    """(prompt, response, rubric principle) from a Prometheus absolute-grading prompt.

    Raises:
        InputError: a section is missing.
    """
    marks = list(_HEADING.finditer(instruction))
    parts = {m.group(1).strip(): instruction[m.end():(marks[i + 1].start() if i + 1 < len(marks)
                                                      else len(instruction))].strip()
             for i, m in enumerate(marks)}
    for key in ("Score Rubrics", "The instruction to evaluate", "Response to evaluate"):
        if key not in parts:
            raise InputError(f"no '### {key}:' section in the Prometheus prompt",
                             field="instruction")
    rubric = parts["Score Rubrics"]
    criterion = rubric.split("\n", 1)[0].strip().strip("[]").strip()
    anchors = {int(k): v.strip() for k, v in _ANCHOR.findall(rubric)}
    principle = Principle(id="rubric", title=criterion[:60], statement=criterion, rubric=anchors)
    return parts["The instruction to evaluate"], parts["Response to evaluate"], principle


def _rubric_principle(p: Principle) -> Principle:
    return resolve_principle(p.text)  # free text: id text:<hash>, hashed as the head reads it


def import_prometheus(path: Path) -> Iterator[dict[str, Any]]:
    """Records from a Prometheus eval file (see the module docstring)."""
    rows = _load_json(path)
    if not isinstance(rows, list):
        raise InputError("expected a JSON list", path=str(path))
    name = path.name.split(".")[0].removesuffix("_eval")
    if name == "hhh_alignment":
        for n, row in enumerate(rows):
            try:
                prompt, chosen, rubric = parse_prometheus(str(row["chosen_instruction"]))
                _, rejected, _ = parse_prometheus(str(row["rejected_instruction"]))
            except (InputError, KeyError, TypeError) as exc:
                yield {"id": f"{name}:{n}", **invalid_record(f"{path}: row {n}: {exc}")}
                continue
            principle = _rubric_principle(rubric)
            base = {"id": f"{name}:{n}", "prompt": prompt,
                    "responses": {"chosen": chosen, "rejected": rejected},
                    "principle": principle.text, "answer_set": f"hhh:{row.get('source')}"}
            yield record(base, preference_judgment(["chosen", "rejected"], 1.0, principle,
                                                   "human (hhh_alignment)"), principle)
        return
    groups: dict[tuple[Any, str], list[tuple[str, str, str, float]]] = defaultdict(list)
    rubrics: dict[tuple[Any, str], Principle] = {}
    for n, row in enumerate(rows):
        try:
            prompt, response, rubric = parse_prometheus(str(row["instruction"]))
            raw = [float(s) for s in row["gpt4_score"]]
            if not raw:
                raise InputError("is empty", field="gpt4_score")
        except (InputError, KeyError, TypeError, ValueError) as exc:
            yield {"id": f"{name}:{n}", **invalid_record(f"{path}: row {n}: {exc}")}
            continue
        key = (row.get("idx"), rubric.text)
        rubrics.setdefault(key, _rubric_principle(rubric))
        # a response's id is its source model; a missing or repeated one gets its row number
        # so that no response replaces another
        ident = str(row.get("response_source") or f"row-{n}")
        if any(m[0] == ident for m in groups[key]):
            ident = f"{ident}#row-{n}"
        groups[key].append((ident, prompt, response, sum(raw) / len(raw)))
    for key, principle in rubrics.items():
        members = groups[key]
        prompts = {m[1] for m in members}
        # MT-Bench second turns hold each model's own first answer: keep the shared last turn
        prompt = prompts.pop() if len(prompts) == 1 else \
            members[0][1].rsplit("User:", 1)[-1].rsplit("Assistant:", 1)[0].strip()
        ids = [m[0] for m in members]
        base = {"id": f"{name}:{key[0]}", "prompt": prompt,
                "responses": dict(zip(ids, [m[2] for m in members], strict=True)),
                "principle": principle.text, "answer_set": f"prometheus:{name}"}
        yield record(base, scores_judgment(ids, [m[3] for m in members], principle,
                                           "gpt-4 (prometheus absolute grading, mean of 3)",
                                           (1.0, 5.0)), principle)


def _number(value: Any) -> bool:
    """A finite number (not a bool, not NaN or infinity)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and \
        math.isfinite(value)


def _generic(row: Any, default_teacher: str
             ) -> tuple[dict[str, Any], Judgment, Principle]:
    if not isinstance(row, Mapping):
        raise InputError("expected a JSON object")
    prompt = row.get("prompt")
    if not isinstance(prompt, str):
        raise InputError("is required and must be a string", field="prompt")
    value = row.get("responses")
    if isinstance(value, list):
        responses = {str(n): v for n, v in enumerate(value)}
    elif isinstance(value, Mapping):
        responses = {str(k): v for k, v in value.items()}
    else:
        raise InputError("is required (a list or an id -> text object)", field="responses")
    if not responses or not all(isinstance(v, str) for v in responses.values()):
        raise InputError("must hold response texts", field="responses")
    text = row.get("principle")
    if not isinstance(text, str) or not text.strip():
        raise InputError("is required (a library id or the principle text)", field="principle")
    principle = resolve_principle(text)
    teacher = str(row.get("teacher") or default_teacher)
    ids = list(responses)
    base = {k: v for k, v in row.items() if k not in ("scores", "preference", "ranking",
                                                       "teacher", "scale")}
    base["responses"] = responses
    if row.get("preference") is not None:
        p = row["preference"]
        if len(ids) != 2 or not _number(p) or not 0.0 <= float(p) <= 1.0:
            raise InputError("must be a number in [0, 1] (P that the first of two responses is "
                             "preferred)", field="preference")
        return base, preference_judgment(ids, float(p), principle, teacher), principle
    if row.get("scores") is not None:
        raw = row["scores"]
        vals = [raw.get(i) for i in ids] if isinstance(raw, Mapping) else raw
        if not isinstance(vals, list) or len(vals) != len(ids) or \
                not all(_number(v) for v in vals):
            raise InputError(f"expected {len(ids)} numbers (a list or an id -> score object)",
                             field="scores")
        scale = row.get("scale")
        scale_t = (float(scale[0]), float(scale[1])) if isinstance(scale, list) and \
            len(scale) == 2 else None
        return (base, scores_judgment(ids, [float(v) for v in vals], principle, teacher,
                                      scale_t), principle)
    if row.get("ranking") is not None:
        ranking = [str(r) for r in row["ranking"]] if isinstance(row["ranking"], list) else []
        if sorted(ranking) != sorted(ids):
            raise InputError(f"must list every response id once (ids: {ids})", field="ranking")
        return (base, scores_judgment(ids, [float(len(ids) - 1 - ranking.index(i))
                                            for i in ids], principle, teacher, None), principle)
    raise InputError("no teacher verdict: give 'scores', 'preference' or 'ranking'",
                     field="scores")


def import_jsonl(path: Path, teacher: str) -> Iterator[dict[str, Any]]:
    """Records from a generic JSONL (see the module docstring)."""
    from judge.jsonl import read_jsonl

    for lineno, row in read_jsonl(str(path)):
        try:
            if isinstance(row, InputError):
                raise row
            base, judgment, principle = _generic(row, teacher)
            yield record(base, judgment, principle)
        except InputError as exc:
            where = f"field '{exc.field}': " if exc.field else ""
            ident = row.get("id") if isinstance(row, Mapping) else None
            yield {"id": ident, **invalid_record(f"{path}:{lineno}: {where}{exc.detail}")}


def import_file(path: str | Path, fmt: str, *, teacher: str = "imported",
                principle: str | None = None) -> Iterator[dict[str, Any]]:
    """Label records from one file of another judge's verdicts.

    Args:
        path: the file.
        fmt: one of :data:`FORMATS`.
        teacher: the teacher's name for ``jsonl`` rows without a ``teacher`` field.
        principle: for ``alpaca-eval``, the principle the judge applied (library id or text;
            default :data:`ALPACA_PRINCIPLE`).

    Raises:
        InputError: the file cannot be read or is not of that format.
    """
    file = Path(path)
    if not file.is_file():
        raise InputError("no such file", path=str(file))
    if fmt == "alpaca-eval":
        return import_alpaca_eval(file, resolve_principle(principle or ALPACA_PRINCIPLE))
    if principle is not None:
        raise InputError(f"--principle applies only to --format alpaca-eval ({fmt} rows carry "
                         "their own principle)")
    if fmt == "prometheus":
        return import_prometheus(file)
    if fmt == "jsonl":
        return import_jsonl(file, teacher)
    raise InputError(f"unknown format '{fmt}' (known: {', '.join(FORMATS)})")
