"""GGUF files for transformers: bad paths are clear errors before anything is converted.

The conversion itself runs on real weights in the real-model tier
(tests/real/test_real_transformers_gguf.py).
"""

from __future__ import annotations

import pytest
from helpers.gguf_file import write_gguf

from judge.backends import load_backend
from judge.backends.shared.gguf_convert import converted_folder, is_gguf
from judge.errors import ConfigError


def test_is_gguf_goes_by_the_suffix():
    assert is_gguf("m/SmolLM2.Q4_1.gguf") and is_gguf("X.GGUF")
    assert not is_gguf("models/tiny") and not is_gguf("gguf")


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        converted_folder(tmp_path / "nope.gguf", cache_dir=tmp_path / "cache")
    with pytest.raises(ConfigError, match="does not exist"):
        load_backend(f"transformers:{tmp_path / 'nope.gguf'}")
    assert not (tmp_path / "cache").exists()


def test_a_file_that_is_not_gguf_is_refused(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 not a gguf file")
    with pytest.raises(ConfigError, match="not a GGUF file"):
        converted_folder(fake, cache_dir=tmp_path / "cache")


def test_a_gguf_transformers_cannot_read_is_a_config_error(tmp_path):
    path = write_gguf(tmp_path / "empty.gguf", {"general.name": "nothing"})
    with pytest.raises(ConfigError, match="transformers cannot load"):
        converted_folder(path, cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []      # no half-written folder left
