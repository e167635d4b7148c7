"""Find the shipped ``principles/`` and ``prompts/`` folders.

In a wheel they live in ``judge/_assets/``; in an editable install or a checkout they are the
top-level folders beside the package.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from judge.errors import AssetsNotFound

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def asset_dir(name: str) -> Path:
    """Return the folder of a shipped asset kind (``"principles"`` or ``"prompts"``).

    Raises:
        AssetsNotFound: neither the wheel location nor the checkout location exists.
    """
    candidates = [_PACKAGE_DIR / "_assets" / name, _PACKAGE_DIR.parent / name]
    for path in candidates:
        if path.is_dir():
            return path
    searched = ", ".join(str(c) for c in candidates)
    raise AssetsNotFound(
        f"shipped '{name}' folder not found (searched: {searched}); reinstall the package "
        "(pip install judge) or run from a full checkout"
    )
