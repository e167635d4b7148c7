"""Imports run one way (docs/architecture.md): foundation <- backends <- core <- uses <- cli."""

from __future__ import annotations

import ast
from pathlib import Path

import judge

PACKAGE = Path(judge.__file__).resolve().parent
#: judge.<first part> -> layer; anything not named here is the foundation (layer 0).
LAYERS = {"backends": 1, "testing": 1, "core": 2, "bench": 3, "label": 3, "rl": 3,
          "distill": 3, "serve": 3, "cli": 4}


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1], 0) if len(parts) > 1 else 5  # the facade sits on top


def _imports(path: Path) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
    return [(name, line) for name, line in found if name.startswith("judge.")]


def test_nothing_imports_upward() -> None:
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if module in ("judge", "judge.__main__"):
            continue
        upward += [f"{path}:{line}: {module} -> {target}" for target, line in _imports(path)
                   if _layer(target) > _layer(module)]
    assert upward == []
