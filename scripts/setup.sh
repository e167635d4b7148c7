#!/usr/bin/env bash
# Create .venv and install the package with everything the tests need (idempotent).
# torch is pinned by constraints.txt so the CPU build is used; vllm is never installed here.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
STAMP=.venv/.installed-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
if [ ! -f "$STAMP" ]; then
    .venv/bin/python -m pip install -q -U pip
    .venv/bin/python -m pip install -q -c constraints.txt -e ".[dev]"
    rm -f .venv/.installed-*
    touch "$STAMP"
fi
# OpenRLHF's remote-RM client (tests/rl/test_rl_openrlhf_real.py). --no-deps: its pins (ray,
# deepspeed, vllm, an older transformers) are not wanted; the client module needs only aiohttp
# and pylatexenc, which the dev extra installs.
if ! .venv/bin/python -c "import openrlhf" 2>/dev/null; then
    .venv/bin/python -m pip install -q --no-deps "openrlhf==0.11.2"
fi
# veRL 0.9.1's files, so tests load our compute_score with veRL's own loader and read its
# generated trainer config (tests/rl/test_rl_verl.py). --no-deps: its package __init__ needs
# torch-distributed extras (tensordict, hydra, ...) the tests never import.
if ! .venv/bin/python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('verl') is None)"; then
    .venv/bin/python -m pip install -q --no-deps "verl==0.9.1"
fi
