"""The vLLM offline-engine backend (``vllm:PATH``): :mod:`judge.backends.vllm.engine`."""
