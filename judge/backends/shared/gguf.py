"""Read the metadata keys of a GGUF file, without llama.cpp or the ``gguf`` package.

The launcher uses it to refuse a model llama.cpp would silently prompt in the wrong format: a GGUF
without ``tokenizer.chat_template`` gets a llama-2 style prompt unless a chat format is named.

A GGUF file starts with ``GGUF``, a version (2 or 3), the tensor count, the metadata count, then
that many (key, type, value) entries, little-endian; values are read only to be skipped, except
strings up to 1 MiB.

    >>> import io, struct
    >>> def s(t): return struct.pack("<Q", len(t)) + t
    >>> head = b"GGUF" + struct.pack("<IQQ", 3, 0, 1)
    >>> meta = gguf_metadata(io.BytesIO(head + s(b"general.name") + struct.pack("<I", 8) + s(b"x")))
    >>> meta
    {'general.name': 'x'}
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from judge.errors import ConfigError

#: Fixed-size value types: type code -> struct format.
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q",
            12: "d"}
_STRING, _ARRAY = 8, 9
_KEEP_STRING = 1 << 20   # strings up to 1 MiB are returned; longer ones (none expected) skipped

CHAT_TEMPLATE_KEY = "tokenizer.chat_template"


def gguf_metadata(stream: BinaryIO, *, where: str = "<stream>") -> dict[str, object]:
    """The metadata of a GGUF stream: key -> value (strings and scalars; arrays as their length).

    Raises:
        ConfigError: not a GGUF file, or cut short (``where`` names it).
    """
    def read(n: int) -> bytes:
        data = stream.read(n)
        if len(data) != n:
            raise ConfigError(f"{where}: the GGUF header is cut short; is the file complete?")
        return data

    def unpack(fmt: str) -> int | float | bool:
        value: int | float | bool = struct.unpack("<" + fmt, read(struct.calcsize(fmt)))[0]
        return value

    def string() -> str:
        length = int(unpack("Q"))
        if length > _KEEP_STRING:
            stream.seek(length, 1)
            return f"<{length} bytes, not read>"
        return read(length).decode("utf-8", errors="replace")

    def value(kind: int) -> object:
        if kind in _SCALARS:
            return unpack(_SCALARS[kind])
        if kind == _STRING:
            return string()
        if kind == _ARRAY:
            inner, count = int(unpack("I")), int(unpack("Q"))
            if inner in _SCALARS:
                stream.seek(count * struct.calcsize(_SCALARS[inner]), 1)
            else:
                for _ in range(count):
                    value(inner)
            return count
        raise ConfigError(f"{where}: unknown GGUF value type {kind}; is it a GGUF file?")

    if stream.read(4) != b"GGUF":
        raise ConfigError(f"{where} is not a GGUF file (it does not start with 'GGUF'); "
                          "llama.cpp serves .gguf files")
    version = int(unpack("I"))
    if version not in (2, 3):
        raise ConfigError(f"{where}: GGUF version {version} is not supported (2 or 3)")
    unpack("Q")                       # tensor count
    meta: dict[str, object] = {}
    for _ in range(int(unpack("Q"))):
        key = string()
        meta[key] = value(int(unpack("I")))
    return meta


def has_chat_template(path: str | Path) -> bool:
    """Whether a GGUF file carries a chat template (``tokenizer.chat_template``).

    Raises:
        ConfigError: the file is missing, unreadable or not GGUF.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"model file '{path}' does not exist; give the path of a .gguf file "
                          "(--backend openai:PATH -B launch=llama.cpp)")
    try:
        with p.open("rb") as f:
            meta = gguf_metadata(f, where=str(path))
    except OSError as exc:
        raise ConfigError(f"cannot read model file '{path}': {exc}") from None
    return bool(meta.get(CHAT_TEMPLATE_KEY))
