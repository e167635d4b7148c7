"""Which backend a spec string names, and how to build it.

Every backend is registered here by its spec prefix, with the ``module:function`` of its
factory. Factories are imported only when a spec is loaded, so this table costs nothing at import
time and holds no import of the packages that own the higher-level backends (``head`` lives in
:mod:`judge.distill`, ``oracle`` in :mod:`judge.bench`). Other code may add backends with
:func:`register_backend`.

>>> backend_entry("head:./my-head").scoring
True
>>> backend_entry("openai:http://127.0.0.1:8000/v1#m").owner
'judge.backends.http'
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from judge.backends.base import ScoringBackend, TextBackend
from judge.errors import ConfigError
from judge.types import Sampling


@dataclass(frozen=True)
class BackendEntry:
    """One registered backend.

    Attributes:
        kind: the spec prefix (``transformers`` in ``transformers:./model``).
        factory: ``module:function``; called as ``function(target, **options)``.
        owner: the package that owns the engine (where a change to it belongs).
        scoring: a direct scorer (a reward head): no templates, sampling or permutations apply.
        needs: keyword context the factory needs besides options (the oracle needs ``items``),
            given by the command that can supply it.
        usage: where the backend can be used, said in the error when ``needs`` is missing.
    """

    kind: str
    factory: str
    owner: str
    scoring: bool = False
    needs: tuple[str, ...] = ()
    usage: str = ""


_REGISTRY: dict[str, BackendEntry] = {}


def register_backend(entry: BackendEntry) -> None:
    """Add a backend (a later entry of the same kind replaces the earlier one)."""
    _REGISTRY[entry.kind] = entry


for _entry in (
    BackendEntry("scripted", "judge.backends.scripted:create", "judge.backends"),
    BackendEntry("transformers", "judge.backends.hf.engine:create", "judge.backends.hf"),
    BackendEntry("vllm", "judge.backends.vllm.engine:create", "judge.backends.vllm"),
    BackendEntry("openai", "judge.backends.http.client:create", "judge.backends.http"),
    BackendEntry("head", "judge.distill.backend:create", "judge.distill", scoring=True),
    BackendEntry("oracle", "judge.bench.oracle:create", "judge.bench", needs=("items",),
                 usage="it answers from a suite's gold labels, so use it with `judge bench run`"),
):
    register_backend(_entry)


def backend_kinds() -> list[str]:
    """The backend kinds a spec may start with."""
    return sorted(_REGISTRY)


def backend_entry(spec: str) -> BackendEntry:
    """The registered backend a spec names.

    Raises:
        ConfigError: the kind is unknown.
    """
    kind = spec.partition(":")[0]
    if kind not in _REGISTRY:
        raise ConfigError(
            f"unknown backend '{spec}': the spec must start with one of "
            f"{', '.join(k + ':' for k in backend_kinds())} (e.g. transformers:./my-model)"
        )
    return _REGISTRY[kind]


def load_backend(spec: str, *, context: Mapping[str, Any] | None = None,
                 **options: Any) -> TextBackend | ScoringBackend:
    """Build a backend from a spec string such as ``transformers:./model``.

    Args:
        spec: ``KIND`` or ``KIND:TARGET``.
        context: what a backend's ``needs`` asks for (e.g. ``{"items": suite.items}``).
        **options: backend-specific options, validated by the backend.

    Raises:
        ConfigError: the kind is unknown, the target or a needed context is missing, or an
            option is unknown or invalid.
        MissingDependency: the backend's extra is not installed.
    """
    entry = backend_entry(spec)
    given = dict(context or {})
    missing = [name for name in entry.needs if name not in given]
    if missing:
        raise ConfigError(f"the {entry.kind} backend cannot be used here: {entry.usage}")
    module_name, _, func = entry.factory.partition(":")
    factory = getattr(importlib.import_module(module_name), func)
    extra = {name: given[name] for name in entry.needs}
    backend: TextBackend | ScoringBackend = factory(spec.partition(":")[2], **extra, **options)
    return backend


def refuse_for_scoring(backend: TextBackend | ScoringBackend | str, **given: Any) -> None:
    """Refuse :class:`~judge.core.Judge` options that a direct scorer would silently ignore.

    ``given`` holds ``permutations``, ``structured``, ``template``, ``templates_dir``,
    ``pointwise`` and ``sampling`` as passed to the judge; defaults (and a sampling seed) are fine.

    Raises:
        ConfigError: naming each such option and the backend.
    """
    scoring = (backend_entry(backend).scoring if isinstance(backend, str)
               else isinstance(backend, ScoringBackend))
    if not scoring:
        return
    sampling = given.pop("sampling")
    bad = [name for name, value in given.items()
           if value not in (None, False) and not (name == "permutations" and value == 1)]
    if sampling is not None:
        default = Sampling(seed=sampling.seed)
        bad += [f"sampling.{f}" for f in Sampling.model_fields
                if getattr(sampling, f) != getattr(default, f)]
    if bad:
        name = backend if isinstance(backend, str) else backend.name
        raise ConfigError(f"{', '.join(bad)}: not applicable to the scoring backend '{name}': "
                          "a reward head scores each response directly, with no prompt template, "
                          "decoding or presentation order; remove them or use a generative backend")
