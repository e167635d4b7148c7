"""Serve rewards over HTTP: a FastAPI app around a reward head or any judge backend.

:func:`~judge.serve.app.create_app` builds the app, :mod:`~judge.serve.batcher` gathers
concurrent requests into one scoring call, :mod:`~judge.serve.openrlhf` holds OpenRLHF's
request/response handling as pure functions, and :mod:`~judge.serve.scorers` wraps a head or a
generative :class:`~judge.core.Judge`. ``judge serve`` runs it with uvicorn.
"""

from __future__ import annotations
