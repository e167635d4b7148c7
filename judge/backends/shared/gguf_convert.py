"""A GGUF model turned, once, into a plain transformers folder (fp32 safetensors + tokenizer).

transformers loads a ``.gguf`` file with ``gguf_file=``, de-quantising every tensor and
converting the tokenizer on each load, and refuses ``save_pretrained`` on the result. Both the
transformers judge backend and the last-token embedder therefore read GGUF models through
:func:`converted_folder`: the first call converts the file and writes an ordinary model folder
under the cache; later calls (and later runs) load that folder directly.

The cache entry is named by a hash of the file's path, size and modification time and of the
converter, transformers and gguf versions, so a changed file or an upgrade converts again; it is written to a temporary folder and renamed into
place, so an interrupted conversion leaves nothing half-written behind.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

from judge.backends.shared.gguf import gguf_metadata
from judge.backends.shared.quiet import quiet_loading
from judge.errors import ConfigError, missing_dependency

log = logging.getLogger(__name__)

#: Folder the converted models live in (``$JUDGE_CACHE_DIR/gguf`` or ``./.judge-cache/gguf``).
CACHE_SUBDIR = "gguf"
#: Version of this conversion; part of the cache key with the transformers and gguf versions.
CONVERTER = "gguf-convert/1"


def is_gguf(path: str | Path) -> bool:
    """Whether a model path names a GGUF file (by its suffix)."""
    return str(path).lower().endswith(".gguf")


def cache_root() -> Path:
    """Where converted folders are kept."""
    return Path(os.environ.get("JUDGE_CACHE_DIR") or ".judge-cache") / CACHE_SUBDIR


def file_key(path: Path) -> str:
    """A cheap identity of a file: its resolved path, size and modification time (no read:
    hashing a multi-GB model on every load would cost seconds of start-up)."""
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


def converted_folder(path: str | Path, *, cache_dir: Path | None = None) -> Path:
    """The transformers folder for a GGUF file, converting it on first use.

    Raises:
        ConfigError: the file is missing or not GGUF, or transformers cannot convert it
            (the message carries transformers' reason).
        MissingDependencyError: transformers or the ``gguf`` package is not installed.
    """
    source = Path(path).expanduser()
    if not source.is_file():
        raise ConfigError(f"model file '{path}' does not exist; give the path of a .gguf file")
    with source.open("rb") as f:
        gguf_metadata(f, where=str(path))          # a clear error when it is not GGUF
    try:
        import transformers
    except ImportError:
        raise missing_dependency("loading a GGUF model with transformers", "transformers",
                                 "hf") from None
    try:
        import gguf  # transformers reads GGUF files through it
    except ImportError:
        raise missing_dependency("loading a GGUF model with transformers", "gguf", "hf") from None
    root = cache_dir or cache_root()
    versions = f"{CONVERTER}|{transformers.__version__}|{getattr(gguf, '__version__', '?')}"
    key = hashlib.sha256(f"{file_key(source)}|{versions}".encode()).hexdigest()[:16]
    target = root / f"{source.stem}-{key}"
    if (target / "config.json").is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    log.warning("converting %s to a transformers folder (once; cached in %s)", source.name, target)
    scratch = Path(tempfile.mkdtemp(prefix=".convert-", dir=root))
    try:
        _convert(source, scratch)
        try:
            scratch.rename(target)
        except OSError:                             # another process finished first
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _convert(source: Path, out: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(source.parent), source.name
    try:
        with quiet_loading():
            tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
            model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    except (OSError, ValueError, KeyError, NotImplementedError) as exc:
        raise ConfigError(f"transformers cannot load '{source}' from GGUF: {exc}") from None
    # The tensors are de-quantised to float32 on load; what remains is the quantiser's marker,
    # which makes save_pretrained refuse. Drop it and save the plain model.
    model.hf_quantizer = None  # type: ignore[assignment]  # a plain attribute, not a submodule
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    try:
        with quiet_loading():
            model.save_pretrained(str(out))
            tokenizer.save_pretrained(str(out))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot write the converted model of '{source}' to {out.parent}: "
                          f"{exc}; set $JUDGE_CACHE_DIR to a writable folder with ~4x the "
                          "file's size free") from None
