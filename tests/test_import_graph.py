"""The import graph of app/ and ingest/ has no circles (issue 22): every import, at the top
of a module or inside a function, points one way. Imports under ``TYPE_CHECKING`` are for
the type checker only and do not count.

Bounds: parses every module of app/ and ingest/ once (well under a second); imports nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT


def _modules() -> dict[str, Path]:
    mods = {}
    for pkg in ("app", "ingest"):
        for p in (ROOT / pkg).rglob("*.py"):
            parts = p.relative_to(ROOT).with_suffix("").parts
            mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return mods


def _imports(tree: ast.AST, known: dict[str, Path]) -> set[str]:
    """The modules of ``known`` that ``tree`` imports (``from a import b``: ``a.b`` when that
    is a module, else ``a``)."""

    def owner(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    names: list[str] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        for n in ast.iter_child_nodes(node):
            if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test):
                todo.extend(n.orelse)
            elif isinstance(n, ast.Import):
                names += [a.name for a in n.names]
            elif isinstance(n, ast.ImportFrom) and n.module and not n.level:
                names += [f"{n.module}.{a.name}" for a in n.names]
            else:
                todo.append(n)
    return {m for m in map(owner, names) if m}


def _circle(graph: dict[str, set[str]]) -> list[str]:
    """One circle in ``graph`` as the modules along it, or [] when there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str]:
        state[m] = 1
        path.append(m)
        for dep in sorted(graph[m]):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        state[m] = 2
        path.pop()
        return []

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return []


def test_app_and_ingest_import_without_circles():
    mods = _modules()
    graph = {m: _imports(ast.parse(p.read_text(encoding="utf-8")), mods) - {m}
             for m, p in mods.items()}
    assert not _circle(graph), " -> ".join(_circle(graph))


def test_a_circle_is_found():
    assert _circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _circle({"a": {"b"}, "b": set()}) == []
