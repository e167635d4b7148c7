"""A loaded reward head: score ``(principle, prompt, responses)`` in batches::

    from judge.distill import load_head
    head = load_head("heads/default")
    head.score("correct-then-concise", "What is 2+2?", ["4", "Let me explain ... so 4."])
    head.score_batch([(principle_text, prompt, [response, ...]), ...])

Within a batch every distinct text is embedded once, in one encoder call; principle and prompt
vectors are also kept in a small in-memory LRU, so scoring k responses to one prompt (or many
requests under one principle) embeds the principle and prompt once.

Every item's scores come with flags (never silently): ``truncated`` when a response is longer
than the encoder reads (its window limit, or :data:`READ_CHARS` characters, past which the text
is cut before tokenising so a 10 MB response costs no more than a long one), ``empty_response``
for a blank response, and ``principle_out_of_distribution`` when the principle's embedding is
far from every principle the head was trained on (its cosine to the nearest one is below the
threshold recorded at training time).

**Runtimes.** ``torch`` runs the sentence-transformers encoder and the torch network; ``onnx``
runs the same encoder exported to ONNX (onnxruntime, ``tokenizers``) and the network in numpy,
without importing torch, transformers or sentence-transformers; ``onnx-int8`` is that export
with int8 weights. ``auto`` (the default) picks the runtime the head's config records as
validated (``runtime.default``; ``onnx`` for a head with no validation record), when
onnxruntime is installed and the export exists or can be built
(:mod:`judge.distill.onnx_build`), else ``torch``.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from judge.distill.artifact import RUNTIMES, HeadConfig, load_net, read_config
from judge.distill.embedders import Embedder, load_embedder
from judge.distill.features import build_features, build_features_np, stats_matrix
from judge.distill.net_numpy import NumpyNet, load_numpy_net
from judge.errors import ArtifactError, ConfigError, JudgeError
from judge.principles import Principle, resolve_principle

_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
#: Characters of a response read at most; the rest is cut before tokenising (flag ``truncated``).
READ_CHARS = 65_536
TRUNCATED, EMPTY, PRINCIPLE_OOD = "truncated", "empty_response", "principle_out_of_distribution"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeadScores:
    """Scores for one item's responses.

    Attributes:
        scores: one score per response (see the head's ``score.meaning``).
        uncertainty: per response, the spread (standard deviation) of an ensemble's members;
            None for single heads.
        flags: ``truncated`` / ``empty_response`` / ``principle_out_of_distribution``.
        problems: the flags in plain words (which response, what limit).
        principle_similarity: cosine of the principle to the nearest training principle (None
            when the head records none).
    """

    scores: list[float]
    uncertainty: list[float] | None = None
    flags: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    principle_similarity: float | None = None


def encode_vectors(vectors: np.ndarray) -> str:
    """Unit vectors as base64 float16 (how a head stores its training principles)."""
    return base64.b64encode(np.ascontiguousarray(vectors, dtype="<f2").tobytes()).decode()


def decode_vectors(blob: str, dim: int) -> np.ndarray:
    """The inverse of :func:`encode_vectors`."""
    return np.frombuffer(base64.b64decode(blob), dtype="<f2").astype(np.float32).reshape(-1, dim)


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[str, np.ndarray] = OrderedDict()

    def get(self, key: str) -> np.ndarray | None:
        value = self.data.get(key)
        if value is not None:
            self.data.move_to_end(key)
        return value

    def put(self, key: str, value: np.ndarray) -> None:
        if self.size <= 0:
            return
        self.data[key] = value
        self.data.move_to_end(key)
        while len(self.data) > self.size:
            self.data.popitem(last=False)


def principle_text(value: str | Principle) -> str:
    """The text a head reads for a principle: a library id is resolved, free text is kept
    verbatim."""
    if isinstance(value, Principle):
        return value.text
    if _SLUG.match(value.strip()):  # the same rule as judge.principles.resolve_principle
        return resolve_principle(value.strip()).text
    return value


class RewardHead:
    """A trained head plus its embedder.

    Args:
        config: the head's validated config.
        net: the network with loaded weights: a torch ``RewardNet`` or a :class:`NumpyNet`.
        embedder: an embedder to use instead of loading the one the config names.
        check_embedder: refuse an embedder whose revision or input format differs from the
            one the head was trained on.
        cache_size: principle and prompt vectors kept in memory.
        embedder_options: options for :func:`load_embedder` (``batch_size``, ``device``).
        runtime: ``torch``, ``onnx`` or ``onnx-int8`` (resolved; see the module docstring):
            which encoder is loaded on first use.
    """

    def __init__(self, config: HeadConfig, net: Any, embedder: Embedder | None = None, *,
                 check_embedder: bool = True, cache_size: int = 4096,
                 embedder_spec: str | None = None,
                 embedder_options: dict[str, Any] | None = None, folder: Path | None = None,
                 runtime: str = "torch") -> None:
        if runtime not in RUNTIMES:
            raise ConfigError(f"unknown runtime '{runtime}': use {', '.join(RUNTIMES)}")
        self.config = config
        self.net = net
        self.runtime = runtime
        self.folder = folder
        self._embedder = embedder
        self._embedder_spec = embedder_spec or config.embedder.spec
        self._embedder_options = dict(embedder_options or {})
        self._check = check_embedder
        self._lock = threading.Lock()
        self._principles = _LRU(cache_size)
        self._prompts = _LRU(cache_size)
        index = config.training.get("principle_index") or {}
        self._p_index = (decode_vectors(index["vectors"], config.embedder.dim)
                         if index.get("vectors") else None)
        self.ood_threshold: float | None = index.get("threshold")
        if embedder is not None:
            self._verify(embedder)

    @property
    def name(self) -> str:
        """The head's name from its config."""
        return self.config.name

    @property
    def embedder(self) -> Embedder:
        """The embedder (loaded on first use and checked against the config)."""
        if self._embedder is None:
            embedder: Embedder
            if self.runtime == "torch":
                embedder = load_embedder(self._embedder_spec, **self._embedder_options)
            else:
                from judge.distill.onnx_build import load_onnx_embedder

                options = {k: v for k, v in self._embedder_options.items() if k != "device"}
                embedder = load_onnx_embedder(self._embedder_spec, self.runtime, **options)
            self._verify(embedder)
            self._embedder = embedder
        return self._embedder

    def _verify(self, embedder: Embedder) -> None:
        want, got = self.config.embedder, embedder.info
        if got.dim != want.dim:
            raise ArtifactError(f"head '{self.name}' reads {want.dim}-d embeddings but embedder "
                                f"'{got.spec}' gives {got.dim}-d ones")
        if not self._check:
            return
        if got.revision != want.revision or got.input_format != want.input_format:
            raise ArtifactError(
                f"head '{self.name}' was trained on embedder {want.model_id} revision "
                f"{want.revision} with input format {want.input_format}, but the loaded one is "
                f"revision {got.revision} with {got.input_format}; install the same encoder "
                "(see the head's README.md), retrain the head, or pass check_embedder=False "
                "(-B check_embedder=false) to use it anyway")

    def score(self, principle: str | Principle, prompt: str,
              responses: Sequence[str]) -> list[float]:
        """Scores for one prompt's responses under one principle (library id or text)."""
        return self.score_batch([(principle_text(principle), prompt, responses)])[0]

    def score_batch(self, items: Sequence[tuple[str, str, Sequence[str]]]) -> list[list[float]]:
        """Scores for ``(principle_text, prompt, responses)`` items, one list per item."""
        return [s.scores for s in self.score_batch_detailed(items)]

    def score_batch_detailed(self, items: Sequence[tuple[str, str, Sequence[str]]]
                             ) -> list[HeadScores]:
        """Like :meth:`score_batch`, with ensemble uncertainty."""
        for n, (p, q, rs) in enumerate(items):
            if not isinstance(p, str) or not isinstance(q, str) or isinstance(rs, str) or \
                    not all(isinstance(r, str) for r in rs):
                raise ConfigError(f"item {n}: expected (principle text, prompt, list of response "
                                  "texts)")
        if not items:
            return []
        items = [(p, q, [r[:READ_CHARS] for r in rs]) for p, q, rs in items]
        flags = [self._response_flags(rs) for _, _, rs in items]
        with self._lock:
            p_vecs, q_vecs, r_vecs = self._vectors(items)
        flat_p, flat_q, flat_r, pairs = [], [], [], []
        for p, q, rs in items:
            for r in rs:
                flat_p.append(p_vecs[p])
                flat_q.append(q_vecs[q])
                flat_r.append(r_vecs[r])
                pairs.append((r, q))
        sims = self._principle_similarity(p_vecs)
        for (p, _, _), (fl, probs) in zip(items, flags, strict=True):
            sim = sims.get(p)
            if sim is not None and self.ood_threshold is not None and sim < self.ood_threshold:
                fl.append(PRINCIPLE_OOD)
                probs.append(f"the principle is far from those the head was trained on (cosine "
                             f"{sim:.2f} < {self.ood_threshold:.2f}); its scores may not follow "
                             "it: use an LLM judge backend")
        if not pairs:
            return [HeadScores([], [] if self._is_ensemble else None, fl, pr, sims.get(p))
                    for (p, _, _), (fl, pr) in zip(items, flags, strict=True)]
        out = self._forward(np.stack(flat_p), np.stack(flat_q), np.stack(flat_r),
                            stats_matrix(pairs))
        mean = out.mean(0).tolist()
        spread = out.std(0).tolist()  # population spread, as torch's std(unbiased=False)
        results, cursor = [], 0
        for (p, _, rs), (fl, pr) in zip(items, flags, strict=True):
            k = len(rs)
            results.append(HeadScores(mean[cursor:cursor + k],
                                      spread[cursor:cursor + k] if self._is_ensemble else None,
                                      fl, pr, sims.get(p)))
            cursor += k
        return results

    def _forward(self, p: np.ndarray, q: np.ndarray, r: np.ndarray, s: np.ndarray
                 ) -> np.ndarray:
        """Member scores ``(members, n)`` for stacked principle/prompt/response vectors."""
        if isinstance(self.net, NumpyNet):
            return self.net(build_features_np(p, q, r, s))
        import torch

        feats = build_features(*(torch.from_numpy(x) for x in (p, q, r, s)))
        with torch.inference_mode():
            out: np.ndarray = self.net(feats).numpy()
        return out

    def _response_flags(self, responses: Sequence[str]) -> tuple[list[str], list[str]]:
        """``truncated`` / ``empty_response`` flags of one item, with the reasons."""
        flags: list[str] = []
        problems: list[str] = []
        empty = [n for n, r in enumerate(responses) if not r.strip()]
        if empty:
            flags.append(EMPTY)
            problems.append(f"response(s) {empty} are empty; their scores mean nothing")
        fmt = self.config.embedder.input_format
        cap = fmt.get("max_windows")
        counter = getattr(self._embedder or self.embedder, "windows_needed", None)
        needed = counter(responses) if callable(counter) and cap else [1] * len(responses)
        cut = [n for n, (r, w) in enumerate(zip(responses, needed, strict=True))
               if w > (cap or w) or len(r) >= READ_CHARS]
        if cut:
            flags.append(TRUNCATED)
            limit = (f"{cap} windows of {fmt.get('window_tokens')} tokens" if cap
                     else f"{READ_CHARS} characters")
            problems.append(f"response(s) {cut} are longer than the head reads ({limit}); "
                            "only their beginning was scored")
        return flags, problems

    def _principle_similarity(self, p_vecs: dict[str, np.ndarray]) -> dict[str, float]:
        if self._p_index is None:
            return {}
        return {p: float(np.max(self._p_index @ v)) for p, v in p_vecs.items()}
    @property
    def _is_ensemble(self) -> bool:
        return self.config.architecture.kind == "ensemble"

    def _vectors(self, items: Sequence[tuple[str, str, Sequence[str]]]
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Embed what is needed in one encoder call: new principles, new prompts, responses."""
        p_vecs: dict[str, np.ndarray] = {}
        q_vecs: dict[str, np.ndarray] = {}
        for p, q, _ in items:
            if p not in p_vecs and (v := self._principles.get(p)) is not None:
                p_vecs[p] = v
            if q not in q_vecs and (v := self._prompts.get(q)) is not None:
                q_vecs[q] = v
        new_p = list(dict.fromkeys(p for p, _, _ in items if p not in p_vecs))
        new_q = list(dict.fromkeys(q for _, q, _ in items if q not in q_vecs))
        responses = list(dict.fromkeys(r for _, _, rs in items for r in rs))
        texts = new_p + new_q + responses
        vectors = self.embedder.embed(texts) if texts else np.zeros((0, self.config.embedder.dim))
        for n, p in enumerate(new_p):
            p_vecs[p] = vectors[n]
            self._principles.put(p, vectors[n])
        for n, q in enumerate(new_q):
            q_vecs[q] = vectors[len(new_p) + n]
            self._prompts.put(q, vectors[len(new_p) + n])
        offset = len(new_p) + len(new_q)
        r_vecs = {r: vectors[offset + n] for n, r in enumerate(responses)}
        return p_vecs, q_vecs, r_vecs

    def describe(self) -> dict[str, Any]:
        """Name, embedder, architecture, score meaning and headline metrics."""
        c = self.config
        return {"name": c.name, "embedder": c.embedder.model_id, "architecture": c.architecture.kind,
                "runtime": self.runtime, "score": c.score.meaning,
                "metrics": c.metrics.get("headline", {})}


def resolve_runtime(requested: str, config: HeadConfig, *, embedder_spec: str,
                    device: str | None = None, embedder: Embedder | None = None) -> str:
    """The runtime a head will use (see the module docstring for ``auto``).

    Raises:
        ConfigError: an unknown runtime, or an onnx one with a GPU device or a given embedder.
        MissingDependency: an onnx runtime asked for without onnxruntime / tokenizers.
    """
    if requested not in ("auto", *RUNTIMES):
        raise ConfigError(f"unknown runtime '{requested}': use auto, {', '.join(RUNTIMES)}")
    on_gpu = device not in (None, "cpu")
    if requested == "torch" or (requested == "auto" and (on_gpu or embedder is not None)):
        return "torch"
    if requested != "auto":
        if on_gpu:
            raise ConfigError(f"runtime {requested} runs on the CPU; drop device={device} or use "
                              "runtime=torch")
        if embedder is not None:
            raise ConfigError(f"runtime {requested} loads its own encoder; do not pass an embedder")
        from judge.distill.embed_onnx import require_onnxruntime
        from judge.distill.onnx_build import source_folder

        require_onnxruntime()
        source_folder(embedder_spec)
        return requested
    return _auto_runtime(config, embedder_spec)


def _auto_runtime(config: HeadConfig, embedder_spec: str) -> str:
    from judge.distill.embed_onnx import require_onnxruntime
    from judge.distill.onnx_build import export_ready

    try:
        require_onnxruntime()
        ready = export_ready(embedder_spec)
    except JudgeError:
        return "torch"
    if not ready:
        return "torch"
    record = config.runtime
    if record.default == "torch" and not record.validated:
        return "onnx"  # never validated: fp32 ONNX, checked against torch when it was built
    return record.default


def load_head(folder: str | Path, *, embedder: Embedder | None = None,
              embedder_spec: str | None = None, check_embedder: bool = True,
              cache_size: int = 4096, runtime: str = "auto",
              **embedder_options: Any) -> RewardHead:
    """Load a head directory (the embedder itself loads on first use).

    Args:
        folder: the head directory.
        embedder: an already loaded embedder to use.
        embedder_spec: load this spec instead of the one in the config (e.g. the same model in
            another folder); still checked against the recorded revision.
        check_embedder: see :class:`RewardHead`.
        cache_size: principle/prompt vectors kept in memory.
        runtime: ``auto``, ``torch``, ``onnx`` or ``onnx-int8`` (see the module docstring).
        **embedder_options: passed to :func:`load_embedder` (``batch_size`` also to the onnx
            encoder).

    Raises:
        ArtifactError: the directory is incomplete, tampered with or incompatible.
        MissingDependency: an onnx runtime without onnxruntime installed.
    """
    path = Path(folder)
    config = read_config(path)
    spec = embedder_spec or config.embedder.spec
    chosen = resolve_runtime(runtime, config, embedder_spec=spec,
                             device=embedder_options.get("device"), embedder=embedder)
    net = load_net(path, config) if chosen == "torch" else load_numpy_net(path, config)
    return RewardHead(config, net, embedder, check_embedder=check_embedder,
                      cache_size=cache_size, embedder_spec=embedder_spec,
                      embedder_options=embedder_options, folder=path, runtime=chosen)
