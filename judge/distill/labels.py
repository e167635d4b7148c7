"""Teacher labels for distillation: verdict files and gold suites -> items -> ordered pairs.

Accepted JSONL rows (one item per line):

* labelled records (:mod:`judge.record`, written by ``judge rank``, ``judge label`` and
  ``judge bench run``; any column prefix): the record's item (prompt, response texts, principle
  text) and its scores. Rows whose status is not usable (:data:`judge.types.USABLE_STATUSES`)
  are skipped and counted, never turned into numbers; a record of another schema version is
  refused with an upgrade hint. When the record has logprob-weighted scores for every response
  (``--top-logprobs``), those are the labels: they separate answers that the sampled 1-5
  scores tie.
* older ``judge rank`` / ``judge label`` output without ``schema``: ``prompt``, ``responses``
  (a list or id -> text of strings), the judge's ``scores`` and/or ``ranking``, ``status`` and
  ``provenance``, read as before; rows flagged ``ranking_contradicts_scores`` are skipped as
  ``inconsistent``.
* gold suites: the same fields, or ``gold_scores`` / ``gold_ranking`` / ``gold: {scores,
  ranking}``.
* pairs: ``prompt``, ``chosen``, ``rejected`` (the chosen one is preferred).
* imported verdicts (``judge distill import``): label records whose ``flags`` hold
  ``preference`` carry a soft pairwise preference: ``scores`` are each response's probability of
  being preferred (ties 0.5 / 0.5). They become one pair with that probability as the target.
  A row's ``answer_set`` (the policy that wrote the evaluated response) is kept as the item's
  ``group`` so a split can hold whole answer sets out.

Two more sources go through :mod:`judge.bench` (imported only when used): a ``judge bench run``
directory (its records hold the judge's scores; prompts and responses come from the suite named
in its ``run.json``), and ``suite:NAME`` for a gold suite (``suite:sample``, ``suite:rm-bench``,
``suite:prometheus:mt_bench``, ``suite:path/to/suite.jsonl``) whose gold scores are the labels.

The principle comes from the row's ``principle`` (library id or text); else from
``provenance.principle`` when that is a library id; else from the caller's default (checked
against the provenance hash when there is one).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from judge.errors import InputError, PrincipleError
from judge.jsonl import read_jsonl
from judge.principles import Principle, PrincipleLibrary, resolve_principle
from judge.record import from_row
from judge.types import USABLE_STATUSES

Split = Literal["train", "test"]


@dataclass(frozen=True)
class LabelItem:
    """One prompt's responses with the teacher's scores under one principle.

    Attributes:
        principle: the principle text the head reads.
        principle_id: a short name for reports (library id, or ``text:<hash>``).
        prompt: the prompt.
        responses: response texts, in the caller's order.
        scores: teacher scores, higher is better; equal scores mean no preference.
        ids: the caller's response ids.
        source: where the item came from (file name or data set).
        weight: weight of this item's pairs in training.
        scale: the teacher's score scale when known, e.g. (1, 5).
        prefer: for a soft pairwise verdict, the teacher's probability that ``responses[0]``
            is preferred to ``responses[1]`` (0.5 = tie); None for scored items.
        group: the answer set (policy) the item belongs to, for a split by answer set.
    """

    principle: str
    principle_id: str
    prompt: str
    responses: tuple[str, ...]
    scores: tuple[float, ...]
    ids: tuple[str, ...] = ()
    source: str = ""
    weight: float = 1.0
    scale: tuple[float, float] | None = None
    prefer: float | None = None
    group: str = ""

    def targets(self, min_margin: float = 0.0) -> list[tuple[int, int, float]]:
        """``(i, j, P(i preferred to j))`` training pairs: the soft pair of a preference item
        (ties kept at 0.5), else every pair the teacher orders by more than ``min_margin`` with
        target 1.

        >>> LabelItem("p", "p", "q", ("a", "b"), (0.3, 0.7), prefer=0.3).targets()
        [(0, 1, 0.3)]
        """
        if self.prefer is not None and len(self.responses) == 2:
            return [(0, 1, self.prefer)]
        return [(i, j, 1.0) for i, j, _ in self.pairs(min_margin)]

    def pairs(self, min_margin: float = 0.0) -> list[tuple[int, int, float]]:
        """``(winner, loser, margin)`` for every pair the teacher orders by more than
        ``min_margin``."""
        out = []
        for i, si in enumerate(self.scores):
            for j, sj in enumerate(self.scores):
                if si - sj > min_margin:
                    out.append((i, j, si - sj))
        return out


@dataclass
class LabelSet:
    """Items read from label files, with what was skipped and why."""

    items: list[LabelItem] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def prompt_split(prompt: str, *, test_fraction: float, seed: int = 0) -> Split:
    """Assign a prompt to train or test from a hash of its text (so no prompt is in both).

    >>> prompt_split("What is 2+2?", test_fraction=0.0)
    'train'
    """
    digest = hashlib.sha256(f"{seed}:{prompt.strip()}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    return "test" if u < test_fraction else "train"


def split_items(items: Sequence[LabelItem], *, test_fraction: float, seed: int = 0,
                test_groups: Sequence[str] = ()) -> tuple[list[LabelItem], list[LabelItem]]:
    """(train, test) items. With ``test_groups``, an item of a named answer set is held out and
    any other item with a group trains (whole policies held out); items without a group, and
    every item when ``test_groups`` is empty, are split by prompt hash."""
    held = set(test_groups)
    train: list[LabelItem] = []
    test: list[LabelItem] = []
    for it in items:
        if held and it.group:
            (test if it.group in held else train).append(it)
            continue
        (test if prompt_split(it.prompt, test_fraction=test_fraction, seed=seed) == "test"
         else train).append(it)
    return train, test


def _principle_of(row: Mapping[str, Any], default: Principle | None,
                  library: PrincipleLibrary | None) -> Principle:
    value = row.get("principle")
    if isinstance(value, str) and value.strip():
        return resolve_principle(value, library)
    if isinstance(value, Mapping) and isinstance(value.get("text") or value.get("statement"), str):
        return resolve_principle(str(value.get("text") or value.get("statement")), library)
    prov = row.get("provenance")
    ref = prov.get("principle") if isinstance(prov, Mapping) else None
    ref_id = ref.get("id") if isinstance(ref, Mapping) else None
    if isinstance(ref_id, str) and not ref_id.startswith("text:"):
        return resolve_principle(ref_id, library)
    if default is not None:
        ref_hash = ref.get("hash") if isinstance(ref, Mapping) else None
        if ref_hash and ref_hash != default.hash:
            raise InputError(
                f"the verdict was made under principle {ref_id} (hash {ref_hash}) but the "
                f"default principle has hash {default.hash}; pass the same --principle the "
                "judge ran with", field="principle")
        return default
    if isinstance(ref_id, str):
        raise InputError(f"the verdict was made under free-text principle {ref_id}, whose "
                         "wording is not in the row; pass it with --principle", field="principle")
    raise InputError("missing; give each row a 'principle' or pass --principle",
                     field="principle")


def _scores_of(row: Mapping[str, Any], ids: list[str]) -> list[float]:
    nested = row.get("gold")
    gold: Mapping[str, Any] = nested if isinstance(nested, Mapping) else {}
    for key, value in (("scores", row.get("scores")), ("gold_scores", row.get("gold_scores")),
                       ("gold.scores", gold.get("scores"))):
        if value is None:
            continue
        if isinstance(value, Mapping):
            missing = [i for i in ids if i not in value and str(i) not in value]
            if missing:
                raise InputError(f"no score for response id(s) {missing}", field=key)
            raw = [value.get(i, value.get(str(i))) for i in ids]
        elif isinstance(value, list) and len(value) == len(ids):
            raw = list(value)
        else:
            raise InputError(f"expected an id -> score object or a list of {len(ids)} scores",
                             field=key)
        try:
            return [float(v) for v in raw]
        except (TypeError, ValueError):
            raise InputError("scores must be numbers", field=key) from None
    for key, value in (("ranking", row.get("ranking")), ("gold_ranking", row.get("gold_ranking")),
                       ("gold.ranking", gold.get("ranking"))):
        if value is None:
            continue
        if not isinstance(value, list) or sorted(map(str, value)) != sorted(ids):
            raise InputError(f"must list every response id once (ids: {ids})", field=key)
        position = {str(cid): n for n, cid in enumerate(value)}
        return [float(len(ids) - 1 - position[i]) for i in ids]
    raise InputError("no teacher scores or ranking (expected 'scores', 'ranking', "
                     "'gold_scores' or 'gold_ranking')", field="scores")


def _prefer(scores: Sequence[float], flags: Any) -> float | None:
    """A soft pairwise verdict's P(first response preferred) (records flagged ``preference``:
    see :mod:`judge.label.importer`); None for scored items."""
    if not (isinstance(flags, list) and "preference" in flags and len(scores) == 2):
        return None
    total = scores[0] + scores[1]
    if not (total > 0 and 0.0 <= scores[0] <= total):
        raise InputError("a preference verdict needs two probabilities in [0, 1]",
                         field="scores")
    return scores[0] / total


def item_from_record(rec: Mapping[str, Any], source: str = "", group: str = "") -> LabelItem:
    """Turn a labelled record (as :func:`judge.record.from_row` returns it) into a
    :class:`LabelItem`; its principle text is the one the judge read.

    Raises:
        InputError: the record has no item or no usable scores.
    """
    item, scores = rec.get("item"), rec.get("scores")
    if not isinstance(item, Mapping) or not isinstance(item.get("principle"), Mapping):
        raise InputError("the record has no judged item", field="item")
    if not isinstance(scores, Mapping):
        raise InputError("the record has no scores", field="scores")
    try:
        ids = [str(r["id"]) for r in item["responses"]]
        missing = [i for i in ids if i not in scores]
        if missing:
            raise InputError(f"no score for response id(s) {missing}", field="scores")
        scale = rec.get("scale")
        expected = rec.get("logprob_scores")
        if isinstance(expected, Mapping) and all(i in expected for i in ids):
            scores = expected    # the judge's expected score: finer than one sampled integer
        values = tuple(float(scores[i]) for i in ids)
        return LabelItem(
            principle=str(item["principle"]["text"]), principle_id=str(item["principle"]["id"]),
            prompt=str(item["prompt"]), responses=tuple(str(r["text"]) for r in item["responses"]),
            scores=values, ids=tuple(ids), source=source,
            scale=(float(scale[0]), float(scale[1])) if isinstance(scale, list) and len(scale) == 2
            else None, prefer=_prefer(values, rec.get("flags")), group=group)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"the record is malformed ({type(exc).__name__}: {exc}); write it again "
                         "with judge rank/label", field="item") from None


def item_from_row(row: Mapping[str, Any], *, default_principle: Principle | None = None,
                  library: PrincipleLibrary | None = None, source: str = "") -> LabelItem:
    """Turn one label row (a labelled record, or an older row without one) into a
    :class:`LabelItem`.

    Raises:
        InputError: the row is malformed (the field is named), or holds a record of another
            schema version.
        PrincipleError: the principle id is unknown.
    """
    group = "" if row.get("answer_set") is None else str(row["answer_set"])
    rec = from_row(row)
    if rec is not None:
        return item_from_record(rec, source, group)
    prompt = row.get("prompt")
    if not isinstance(prompt, str):
        raise InputError("is required and must be a string", field="prompt")
    principle = _principle_of(row, default_principle, library)
    if "chosen" in row and "rejected" in row and "responses" not in row:
        chosen, rejected = row["chosen"], row["rejected"]
        if not isinstance(chosen, str) or not isinstance(rejected, str):
            raise InputError("'chosen' and 'rejected' must be strings", field="chosen")
        ids, texts, scores = ["chosen", "rejected"], [chosen, rejected], [1.0, 0.0]
    else:
        responses = row.get("responses")
        if isinstance(responses, list):
            ids, texts = [str(i) for i in range(len(responses))], list(responses)
        elif isinstance(responses, Mapping):
            ids, texts = [str(k) for k in responses], list(responses.values())
        else:
            raise InputError("is required (a list or an id -> text object)", field="responses")
        if not texts or not all(isinstance(t, str) for t in texts):
            raise InputError("must hold at least one string", field="responses")
        scores = _scores_of(row, ids)
    scale = row.get("scale")
    scale_t = (float(scale[0]), float(scale[1])) if isinstance(scale, list) and len(scale) == 2 \
        else None
    return LabelItem(principle=principle.text, principle_id=principle.id, prompt=prompt,
                     responses=tuple(texts), scores=tuple(scores), ids=tuple(ids),
                     source=source, scale=scale_t, prefer=_prefer(scores, row.get("flags")),
                     group=group)


def _bench_source(spec: str, library: PrincipleLibrary | None, out: LabelSet) -> bool:
    """Read a bench run directory or a ``suite:NAME``; False when ``spec`` is neither."""
    path = Path(spec)
    is_run = (path / "run.json").is_file() or (path.name == "records.jsonl" and
                                              (path.parent / "run.json").is_file())
    if not is_run and not spec.startswith("suite:"):
        return False
    from judge.bench.suites import load_suite  # optional: only for these two sources

    if not is_run:
        suite = load_suite(spec.partition(":")[2])
        for it in suite.items:
            gold = it.gold()
            _append_bench(out, it, [gold[i] for i in it.responses], library, f"suite:{suite.name}")
        return True
    from judge.bench.runner import load_records, read_manifest

    folder = path if path.is_dir() else path.parent
    manifest = read_manifest(folder)
    by_id = {it.id: it for it in load_suite(str(manifest["suite"])).items}
    for record in load_records(folder, manifest):
        status = record.get("status")
        if status not in USABLE_STATUSES:
            out.skipped[str(status)] += 1
            continue
        rec = from_row(record)
        if rec is not None and rec.get("item") is not None:
            out.items.append(item_from_record(rec, f"bench:{folder.name}"))
            continue
        item, scores = by_id.get(str(record.get("item_id"))), record.get("scores") or {}
        if item is None or set(scores) != set(item.responses):
            out.skipped["invalid"] += 1
            out.problems.append(f"{folder}: record {record.get('item_id')}: not in suite "
                                f"'{manifest['suite']}' or scores do not match its responses")
            continue
        _append_bench(out, item, [float(scores[i]) for i in item.responses], library,
                      f"bench:{folder.name}")
    return True


def _append_bench(out: LabelSet, item: Any, scores: list[float],
                  library: PrincipleLibrary | None, source: str) -> None:
    principle = resolve_principle(item.principle, library)
    out.items.append(LabelItem(principle=principle.text, principle_id=principle.id,
                               prompt=item.prompt, responses=tuple(item.responses.values()),
                               scores=tuple(scores), ids=tuple(item.responses), source=source))


def _rows(name: str) -> Iterable[tuple[int, Mapping[str, Any] | InputError]]:
    """The rows of a label file: JSONL (or ``-``), or the parquet file / saved dataset folder
    ``judge label`` writes (read as ``judge label`` reads its inputs)."""
    if name != "-" and (name.endswith(".parquet") or Path(name).is_dir()):
        from judge.label.io import open_source

        return open_source(name)
    return read_jsonl(name)


def read_labels(paths: Iterable[str | Path], *, default_principle: str | None = None,
                library: PrincipleLibrary | None = None, strict: bool = False) -> LabelSet:
    """Read label JSONL files (see the module docstring).

    Args:
        paths: JSONL files (``-`` for standard input), parquet files or saved datasets written
            by ``judge label``, bench run directories, ``suite:NAME``.
        default_principle: principle (id or text) for rows that do not carry one.
        library: principle library for ids (the shipped one by default).
        strict: raise on the first malformed row instead of recording it in ``problems``.

    Returns:
        A :class:`LabelSet`; ``skipped`` counts unparsed verdicts and malformed rows.
    """
    default = resolve_principle(default_principle, library) if default_principle else None
    out = LabelSet()
    for path in paths:
        name = str(path)
        if _bench_source(name, library, out):
            continue
        for lineno, row in _rows(name):
            try:
                if isinstance(row, InputError):
                    raise row
                rec = from_row(row)
                status = (rec or row).get("status")
                if status is not None and status not in USABLE_STATUSES:
                    out.skipped[str(status)] += 1
                    continue
                if rec is None and "ranking_contradicts_scores" in (row.get("flags") or ()):
                    out.skipped["inconsistent"] += 1  # an older file's "ok" that is not
                    continue
                out.items.append(item_from_row(row, default_principle=default, library=library,
                                               source=Path(name).name))
            except (InputError, PrincipleError) as exc:
                if strict:
                    raise
                detail = exc.detail if isinstance(exc, InputError) else str(exc)
                where = f"field '{exc.field}': " if isinstance(exc, InputError) and exc.field \
                    else ""
                out.skipped["invalid"] += 1
                out.problems.append(f"{name}:{lineno}: {where}{detail}")
    return out
