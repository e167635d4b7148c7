"""Imports run one way (docs/architecture.md): foundation <- backends <- core <- uses <- cli."""

from __future__ import annotations

import ast
from pathlib import Path

import judge

PACKAGE = Path(judge.__file__).resolve().parent
#: judge.<first part> -> layer; anything not named here is the foundation (layer 0).
LAYERS = {"backends": 1, "testing": 1, "core": 2, "engine": 2, "bench": 3, "label": 3, "rl": 3,
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


def _module_level_edges() -> dict[str, set[str]]:
    """Module -> the judge modules it imports when it is imported (function-level and
    TYPE_CHECKING imports are deferred, so they cannot form a cycle at import time)."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            edges[module] |= {n for n in names if n in modules and n != module}
    return edges


def test_no_import_cycle() -> None:
    edges = _module_level_edges()
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    cycles: list[str] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                cycles.append(" -> ".join(path[path.index(target):] + [module, target]))
            elif target not in state:
                visit(target, [*path, module])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [])
    assert cycles == []


def test_no_module_over_400_lines() -> None:
    long = [f"{p} ({n} lines)" for p in sorted(PACKAGE.rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400]
    assert long == []
