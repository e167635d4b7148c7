"""Where a run executes: this process (``local``) or a Ray cluster (``ray``).

See :mod:`judge.engine.base`; the Ray engine is in :mod:`judge.engine.ray` (extra ``ray``), the
judge recipe its workers build from in :mod:`judge.engine.spec`, and the sharded label store in
:mod:`judge.engine.shards`.
"""

from __future__ import annotations

from judge.engine.base import ENGINES, Engine, EngineOptions, make_engine
from judge.engine.spec import JudgeSpec

__all__ = ["ENGINES", "Engine", "EngineOptions", "JudgeSpec", "make_engine"]
