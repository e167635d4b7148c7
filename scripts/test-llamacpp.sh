#!/usr/bin/env bash
# Build a separate virtualenv with llama-cpp-python's server and run the tests marked `llamacpp`:
# the HTTP backend (json_object + schema, logprobs) and the `launch=llama.cpp` preset against a
# real `python -m llama_cpp.server` serving the tiny test model converted to GGUF.
#
#   scripts/test-llamacpp.sh                 # build .venv-llamacpp on first use, then test
#   scripts/test-llamacpp.sh -k launch -x    # extra arguments go to pytest
#   LLAMACPP_VENV=/path/to/venv scripts/test-llamacpp.sh
#
# The first run compiles llama.cpp (5-13 min, see scripts/lib/llamacpp-venv.sh; CMAKE_ARGS is
# passed through); pip caches the wheel, so rebuilding the venv later takes seconds.
# The sdist also vendors llama.cpp's HF-to-GGUF converter, which the installed package does not
# ship: it is downloaded once more and unpacked next to the venv (with its own gguf-py: the `gguf`
# release on PyPI lags behind the converter); the tests find it through LLAMACPP_CONVERTER_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV=${LLAMACPP_VENV:-.venv-llamacpp}
VERSION=${LLAMACPP_VERSION:-0.3.36}   # the converter patch in the tests targets this layout
PYTHON=${PYTHON:-python3}
CONVERTER="$VENV/llama.cpp-converter"

SDIST="$VENV/sdist/llama_cpp_python-$VERSION.tar.gz"

. scripts/lib/llamacpp-venv.sh

fetch_sdist() {
    [ -f "$SDIST" ] || pip_quiet download -q --no-deps --no-binary :all: -d "$VENV/sdist" \
        "llama-cpp-python==$VERSION"
}

ensure_llamacpp_server
if ! "$VENV/bin/python" -c "import torch, transformers, pytest" >/dev/null 2>&1; then
    # The tiny-model builder and the converter need torch: the CPU build pinned by constraints.txt.
    pip_quiet install -q -c constraints.txt torch==2.13.0 pytest pydantic jinja2 pyyaml httpx \
        numpy tqdm transformers tokenizers safetensors sentencepiece
fi
if [ ! -f "$CONVERTER/convert_hf_to_gguf.py" ] || [ ! -d "$CONVERTER/gguf-py/gguf" ]; then
    fetch_sdist
    rm -rf "$CONVERTER" && mkdir -p "$CONVERTER"
    tar -xzf "$SDIST" -C "$CONVERTER" --strip-components=3 \
        "llama_cpp_python-$VERSION/vendor/llama.cpp/convert_hf_to_gguf.py" \
        "llama_cpp_python-$VERSION/vendor/llama.cpp/conversion" \
        "llama_cpp_python-$VERSION/vendor/llama.cpp/gguf-py"
fi

# The checkout is imported from source (no install into the llama.cpp venv).
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export LLAMACPP_CONVERTER_DIR="$(cd "$CONVERTER" && pwd)"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
exec "$VENV/bin/python" -m pytest tests/backends -m llamacpp -p no:cacheprovider "$@"
