# Sourced by scripts/test-llamacpp.sh and scripts/test-real.sh: build the venv that holds
# llama-cpp-python's server. Needs VENV, VERSION and PYTHON set by the caller.
#
# PyPI has only an sdist of llama-cpp-python (~77 MB): the first install compiles llama.cpp
# (about 5 min on 2 idle cores, 12-13 min when they are busy) and pip caches the wheel, so
# rebuilding the venv later takes seconds. CMAKE_ARGS is passed through; by default the build
# skips llama.cpp's tests, examples and tools, which the server does not use.

pip_quiet() {   # pip without the noise of index locations that do not exist on this machine
    "$VENV/bin/python" -m pip "$@" 2>&1 | { grep -v "^WARNING: Location '" || true; }
}

ensure_llamacpp_server() {
    if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import llama_cpp.server" \
            >/dev/null 2>&1; then
        return 0
    fi
    echo "==> building $VENV with llama-cpp-python $VERSION (first run only)" >&2
    "$PYTHON" -m venv "$VENV"
    pip_quiet install -q -U pip
    export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF \
-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF}"
    # By name from the index, so pip's wheel cache (keyed by the index URL) skips the compile
    # when the venv is rebuilt; a local sdist path would be compiled every time.
    echo "==> installing llama-cpp-python (compiles once; log: $VENV/build.log)" >&2
    if ! "$VENV/bin/python" -m pip install -v "llama-cpp-python[server]==$VERSION" \
            >"$VENV/build.log" 2>&1; then
        tail -n 40 "$VENV/build.log" >&2
        return 1
    fi
}
