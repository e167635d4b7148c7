"""Split generated text into per-token pieces that concatenate exactly to the text.

Byte-level BPE tokens can hold part of a UTF-8 character, so decoding tokens one at a time does
not line up with the decoded text. These helpers decode cumulatively and give a token that ends
inside a character the empty string, handing the completed character to the token that finishes
it. When the pieces still do not add up to the text they return None: callers then report no
logprobs rather than misaligned ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

_REPLACEMENT = "\ufffd"


def token_pieces(decode: Callable[[list[int]], str], ids: Sequence[int],
                 text: str | None = None) -> list[str] | None:
    """Per-token text pieces of ``ids`` whose concatenation is ``decode(ids)``.

    Args:
        decode: decodes a list of token ids (the same settings used for the final text).
        ids: the generated token ids.
        text: the final text, when already decoded (checked against the pieces).

    >>> vocab = {1: "ab", 2: "c", 3: "d"}
    >>> token_pieces(lambda ids: "".join(vocab[i] for i in ids), [1, 2, 3])
    ['ab', 'c', 'd']
    """
    ids = list(ids)
    full = decode(ids) if text is None else text
    pieces: list[str] = []
    committed = ""
    for n in range(1, len(ids) + 1):
        current = decode(ids[:n])
        if not current.startswith(committed):
            return None
        if current.endswith(_REPLACEMENT) and n < len(ids):
            pieces.append("")  # inside a multi-byte character: wait for the token that ends it
            continue
        pieces.append(current[len(committed):])
        committed = current
    return pieces if "".join(pieces) == full else None


def byte_pieces(chunks: Sequence[bytes], text: str) -> list[str] | None:
    """Per-token pieces from raw token bytes (as OpenAI-style ``bytes`` fields give them).

    >>> byte_pieces([b"caf", b"\\xc3", b"\\xa9"], "café")
    ['caf', '', 'é']
    """
    pieces: list[str] = []
    pending = b""
    for chunk in chunks:
        pending += chunk
        try:
            piece = pending.decode("utf-8")
        except UnicodeDecodeError:
            pieces.append("")
            continue
        pieces.append(piece)
        pending = b""
    if pending:
        return None
    return pieces if "".join(pieces) == text else None
