"""The architecture rules of CONTRIBUTING.md, checked on the source (issue 9's "must show").

Layers import downwards only; no import circle; only the store imports duckdb; no module
over 800 lines; no ``store: Any``.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("ingest", "schemas", "registry", "reports")

# Rank of each part (longest prefix wins): a module may import only parts of rank <= its own.
# Same-rank parts may import each other (no circle allowed, see below).
RANKS = {
    "ingest": 0,  # fetch -> parse -> normalise (errors live here)
    "registry": 0,  # the package itself: __version__ only
    "registry.errors": 0,  # re-export of ingest.errors
    "registry.config": 0,  # leaf: db path, curator
    "registry.csvout": 0,  # leaf: safe CSV writing
    "registry.gcpolicy": 0,  # leaf: collector thresholds for bulk work
    "registry.store": 1,  # the one door to the database
    "schemas": 2,  # validation: protocol, pandera schemas, value parsers
    "registry.pooling": 3,  # statistics: pure functions
    "registry.curation": 4,  # domain operations on stored data
    "registry.dedup": 4,
    "registry.screening": 4,
    "registry.intake": 4,
    "registry.sources": 4,
    "registry.search": 4,
    "registry.status": 4,
    "registry.evidence": 5,  # which analyses, results, GRADE, what changed
    "reports": 6,  # presentation
    "registry.update": 7,  # the living cycle: orchestrates every layer
    "registry.web": 8,
    "registry.commands": 8,
    "registry.cli": 8,
}


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in (REPO / pkg).rglob("*.py"):
            rel = path.relative_to(REPO).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _part(module: str) -> str:
    """The RANKS key a module belongs to (longest prefix)."""
    keys = [k for k in RANKS if module == k or (k != "registry" and module.startswith(k + "."))]
    return max(keys, key=len) if keys else module


def _rank(module: str) -> int | None:
    best = None
    for prefix, rank in RANKS.items():
        if module == prefix or (prefix != "registry" and module.startswith(prefix + ".")):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, rank)
    return None if best is None else best[1]


@cache
def _imports() -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        deps: set[str] = set()
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".")
                    base = base if is_pkg else base[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                deps.add(target)
                deps.update(f"{target}.{a.name}" for a in node.names)
        graph[name] = {d for d in deps if d in mods and d != name}
    return graph


def test_every_module_has_a_layer() -> None:
    missing = sorted(m for m in _modules() if _rank(m) is None)
    assert not missing, f"add these to RANKS (and CONTRIBUTING.md): {missing}"


def test_layers_import_downwards_only() -> None:
    bad = [
        f"{m} (rank {_rank(m)}) imports {d} (rank {_rank(d)})"
        for m, deps in _imports().items()
        for d in sorted(deps)
        if (_rank(d) or 0) > (_rank(m) or 0)
    ]
    assert not bad, "\n".join(bad)


def test_no_import_circle() -> None:
    # Circles between parts (store <-> screening ...); a package importing its own modules
    # from its __init__ is how Python packages work and is not counted.
    graph = _imports()
    edges = {m: {d for d in deps if _part(d) != _part(m)} for m, deps in graph.items()}
    parts: dict[str, set[str]] = {}
    for m, deps in edges.items():
        parts.setdefault(_part(m), set()).update(_part(d) for d in deps)
    edges = parts
    seen: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def visit(m: str) -> None:
        seen[m] = 1
        stack.append(m)
        for d in sorted(edges.get(m, ())):
            if seen.get(d) == 1:
                cycles.append(" -> ".join(stack[stack.index(d):] + [d]))
            elif d not in seen:
                visit(d)
        stack.pop()
        seen[m] = 2

    for m in sorted(edges):
        if m not in seen:
            visit(m)
    assert not cycles, "\n".join(cycles)


def test_only_the_store_imports_duckdb() -> None:
    bad = []
    for name, path in _modules().items():
        if name.startswith("registry.store"):
            continue
        if re.search(r"^\s*(import duckdb|from duckdb)", path.read_text(), re.M):
            bad.append(name)
    assert not bad


@pytest.mark.parametrize("limit", [800])
def test_no_module_over_800_lines(limit: int) -> None:
    big = {
        n: len(p.read_text().splitlines())
        for n, p in _modules().items()
        if len(p.read_text().splitlines()) > limit
    }
    assert not big, big


def test_no_untyped_store() -> None:
    bad = [n for n, p in _modules().items() if re.search(r"\bstore: Any\b", p.read_text())]
    assert not bad, bad
