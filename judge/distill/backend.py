"""The ``head`` backend: a distilled reward head behind the :class:`ScoringBackend` protocol.

``head`` loads the shipped default head; ``head:DIR`` loads the head in DIR. Options
(``-B KEY=VALUE`` on the command line): ``batch_size`` and ``device`` for the embedder,
``embedder`` to load the same encoder from another spec, ``check_embedder`` (default true),
``runtime`` (``auto``, ``torch``, ``onnx``, ``onnx-int8``: see :mod:`judge.distill.head`; the
onnx ones score without importing torch).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from judge.assets import asset_dir
from judge.backends.shared.options import BackendOptions, parse_options, require_device
from judge.errors import AssetsNotFound, ConfigError, MissingDependency, missing_dependency
from judge.items import Item, resolved_principle

log = logging.getLogger(__name__)
#: One line a user reads when the head cannot be trusted on an input.
HINTS = {
    "principle_out_of_distribution": (
        "the principle is far from those the reward head was trained on, so its scores may not "
        "follow it; use an LLM judge backend (--backend openai:URL#MODEL, vllm:PATH, "
        "transformers:PATH) for this principle"),
    "truncated": ("a response is longer than the reward head reads; only its beginning was "
                  "scored (see the verdict's problems)"),
    "empty_response": "an empty response was scored; its score means nothing",
}

#: Where the shipped head lives: ``heads/default`` in a checkout,
#: ``judge/_assets/heads/default`` in a wheel.
DEFAULT_HEAD = "default"


class HeadOptions(BackendOptions):
    """Options of the head backend."""

    batch_size: int | None = Field(None, ge=1)
    device: str | None = None
    embedder: str | None = None
    check_embedder: bool = True
    cache_size: int = Field(4096, ge=0)
    runtime: Literal["auto", "torch", "onnx", "onnx-int8"] = "auto"


def default_head_dir() -> Path:
    """The shipped default head's directory.

    Raises:
        AssetsNotFound: the package was installed without its heads.
    """
    folder = asset_dir("heads") / DEFAULT_HEAD
    if not (folder / "config.json").is_file():
        raise AssetsNotFound(f"the shipped reward head is missing from {folder}; reinstall the "
                             "package or pass --backend head:DIR")
    return folder


class HeadBackend:
    """A reward head as a scoring backend (``judge.core.Judge`` routes to it directly)."""

    def __init__(self, head: Any, name: str) -> None:
        self.head = head
        self.name = name
        self.model: str | None = head.name

        self._warned: set[str] = set()

    def score_batch(self, items: Sequence[Item]) -> list[list[float]]:
        """Scores for items whose principle is resolved (the scoring protocol)."""
        return [d.scores for d in self.score_batch_detailed(items)]

    def score_batch_detailed(self, items: Sequence[Item]) -> list[Any]:
        """Scores with ensemble uncertainty and flags
        (:class:`judge.distill.head.HeadScores`); each kind of flag is warned about once."""
        results = self.head.score_batch_detailed(
            [(resolved_principle(it).text, it.prompt, list(it.responses.values()))
             for it in items])
        for flag in sorted({f for r in results for f in r.flags} - self._warned):
            self._warned.add(flag)
            log.warning("%s", HINTS.get(flag, flag))
        return results  # type: ignore[no-any-return]

    def fingerprint(self) -> str | None:
        """The head's identity for resumable runs: its weights' hash, the embedder it reads
        with and, unless torch, the runtime (int8 numerics differ; see :mod:`judge.identity`)."""
        config = getattr(self.head, "config", None)
        weights = getattr(getattr(config, "weights", None), "sha256", None)
        embedder = getattr(self.head, "_embedder_spec", None)
        runtime = getattr(self.head, "runtime", "torch")
        suffix = "" if runtime == "torch" else f":{runtime}"
        return None if weights is None else f"{weights}:{embedder}{suffix}"

    def close(self) -> None:
        """Nothing to release (the embedder is shared per process)."""


def create(target: str, **options: Any) -> HeadBackend:
    """Build the backend for ``head`` (shipped head) or ``head:DIR``.

    Raises:
        ConfigError: unknown options or a missing directory.
        ArtifactError: the head is damaged or incompatible.
        MissingDependency: torch / sentence-transformers are not installed (or onnxruntime,
            for runtime=onnx).
    """
    opts = parse_options(HeadOptions, "head", options)
    folder = Path(target).expanduser() if target else default_head_dir()
    if not folder.is_dir():
        raise ConfigError(f"head backend: '{folder}' is not a directory (train a head with "
                          "`judge distill fit --out DIR`, or use --backend head for the shipped one)")
    try:
        from judge.distill.head import load_head
    except ImportError as exc:
        if isinstance(exc, MissingDependency):
            raise
        raise missing_dependency("the head backend", exc.name or "torch", "embed") from exc
    if opts.device is not None:
        require_device(opts.device, "head")
    embedder_options: dict[str, Any] = {k: v for k, v in (("batch_size", opts.batch_size),
                                          ("device", opts.device)) if v is not None}
    head = load_head(folder, embedder_spec=opts.embedder, check_embedder=opts.check_embedder,
                     cache_size=opts.cache_size, runtime=opts.runtime, **embedder_options)
    return HeadBackend(head, f"head:{target}" if target else "head")
