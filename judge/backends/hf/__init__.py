"""The transformers backend (``transformers:PATH``): :mod:`judge.backends.hf.engine`."""
