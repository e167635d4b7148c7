"""Backends, chosen by a spec string and imported lazily (see :mod:`judge.backends.registry`).

=====================  ==============================================  ==================
spec                   engine (owner)                                  extra
=====================  ==============================================  ==================
``scripted:FILE``      replays replies from FILE (one JSON string      (none)
                       per line) (``backends.scripted``)
``transformers:PATH``  a local causal LM, batched ``generate``         ``hf``
                       (``backends.hf``)
``vllm:PATH``          vLLM's offline engine (``backends.vllm``)       ``vllm``
``openai:URL#MODEL``   any OpenAI-compatible server                    (none)
                       (``backends.http``)
``head`` / ``head:DIR``  a distilled reward head, the shipped one or   ``embed``
                       DIR (``distill.backend``)
``oracle[:MODE]``      gold labels of a bench suite, for sanity        (none)
                       checks (``bench.oracle``; ``judge bench run``)
=====================  ==============================================  ==================

Helpers several engines share (chat rendering, sampling, logprobs, option validation, schemas)
live in :mod:`judge.backends.shared`.
"""

from __future__ import annotations

from judge.backends.base import ScoringBackend, TextBackend
from judge.backends.registry import (
    BackendEntry,
    backend_entry,
    backend_kinds,
    load_backend,
    register_backend,
)
from judge.backends.scripted import ScriptedBackend

Backend = TextBackend | ScoringBackend

__all__ = ["Backend", "BackendEntry", "ScoringBackend", "ScriptedBackend", "TextBackend",
           "backend_entry", "backend_kinds", "load_backend", "register_backend"]
