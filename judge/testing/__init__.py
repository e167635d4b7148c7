"""Test utilities that ship with the package: a tiny causal LM built locally, no downloads."""
