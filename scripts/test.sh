#!/usr/bin/env bash
# Install (first run only), then lint, type-check and run the default test suite: offline, CPU.
#   ruff check           the whole repository (pyproject's [tool.ruff])
#   mypy judge           --strict (pyproject's [tool.mypy]); tests, benchmarks and scripts are
#                        not type-checked yet
#   pytest "$@"          arguments go to pytest (e.g. -x, -k, a test file)
# JUDGE_SKIP_LINT=1 runs pytest only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
if [ "${JUDGE_SKIP_LINT:-0}" != 1 ]; then
    .venv/bin/python -m ruff check .
    .venv/bin/python -m mypy judge
fi
exec .venv/bin/python -m pytest "$@"
