"""The import graph of src/keystead: no cycles, at run time or for the type checker (imports
under ``if TYPE_CHECKING:`` count), and protocol/ — the RFCs, pure — never reaches the edge
(web/, cli/, services/) or the SQL store."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
EDGE = ("keystead.web", "keystead.cli", "keystead.services", "keystead.store.sql")


def _modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / "keystead").rglob("*.py"):
        if "alembic" in path.parts:  # migrations are loaded by Alembic, not imported
            continue
        parts = path.relative_to(SRC).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The keystead modules ``name`` imports: ``from a import b`` is an import of the module
    ``a.b`` when there is one, else of ``a``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                child = f"{base}.{alias.name}"
                targets.add(child if child in modules else base)
    return {t for t in targets if t in modules and t != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_type_checking_and_relative_imports() -> None:
    graph = _graph()
    assert "keystead.protocol.request" in graph["keystead.web.parse"]
    assert "keystead.provider" in graph["keystead.web.endpoints"]  # under TYPE_CHECKING


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_protocol_never_imports_the_edge_or_the_sql_store() -> None:
    wrong = [
        f"{name} imports {target}"
        for name, targets in _graph().items()
        if name.startswith("keystead.protocol")
        for target in targets
        if target.startswith(EDGE)
    ]
    assert wrong == []
