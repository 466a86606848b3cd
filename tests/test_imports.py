"""The shape of blogapi's imports, module by module (pyproject.toml's import-linter contracts
check it package by package): no cycle, no import hidden inside a function, a small root."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

PACKAGE = "blogapi"
PACKAGE_DIR = Path(__file__).resolve().parent.parent / PACKAGE
MAX_ROOT_MODULES = 8


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    """blogapi's import graph as Python runs it: imports under `if TYPE_CHECKING:` never run."""
    return grimp.build_graph(PACKAGE, exclude_type_checking_imports=True, cache_dir=None)


def module_cycles(graph: grimp.ImportGraph, package: str = PACKAGE) -> list[tuple[str, ...]]:
    """One cycle (as its chain of modules, first repeated last) through each import that closes
    a cycle among the package's modules, each cycle reported once."""
    modules = sorted(m for m in graph.modules if m == package or m.startswith(f"{package}."))
    cycles: dict[frozenset[str], tuple[str, ...]] = {}
    for importer in modules:
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if imported not in modules:
                continue
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                cycles.setdefault(frozenset(back), (importer, *back))
    return list(cycles.values())


def names_package_module(node: ast.Import | ast.ImportFrom) -> bool:
    """Whether an import statement imports one of blogapi's modules (a relative import inside
    blogapi always does)."""
    if isinstance(node, ast.ImportFrom):
        names = [node.module or ""] if not node.level else [PACKAGE]
    else:
        names = [alias.name for alias in node.names]
    return any(name == PACKAGE or name.startswith(f"{PACKAGE}.") for name in names)


def local_imports(source: str) -> list[tuple[int, str]]:
    """(line, statement) of each import of a blogapi module inside a function or class body.
    Imports at module level, `if TYPE_CHECKING:` blocks included, are not reported."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            imports = isinstance(child, ast.Import | ast.ImportFrom)
            if nested and imports and names_package_module(child):
                found.append((child.lineno, ast.unparse(child)))
            scopes = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef
            visit(child, nested or isinstance(child, scopes))

    visit(ast.parse(source), nested=False)
    return found


def test_no_import_cycle_between_modules(graph: grimp.ImportGraph) -> None:
    cycles = module_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_function_local_import_of_blogapi() -> None:
    found = [
        f"{path.relative_to(PACKAGE_DIR.parent)}:{line}: {statement}"
        for path in sorted(PACKAGE_DIR.rglob("*.py"))
        for line, statement in local_imports(path.read_text(encoding="utf-8"))
    ]
    assert not found, "imports of blogapi inside a function or class:\n" + "\n".join(found)


def test_package_root_holds_few_modules() -> None:
    root = sorted(path.name for path in PACKAGE_DIR.glob("*.py"))
    assert len(root) <= MAX_ROOT_MODULES, f"{len(root)} modules at blogapi/: {', '.join(root)}"


def test_checks_see_what_they_look_for() -> None:
    """The checks above find a planted cycle and planted local imports, and pass over imports
    at module level and under a module-level `if TYPE_CHECKING:`."""
    planted = grimp.ImportGraph()
    for importer, imported in [
        ("blogapi.web.errors", "blogapi.db.errors"),
        ("blogapi.db.errors", "blogapi.db.engine"),
        ("blogapi.db.engine", "blogapi.web.errors"),
        ("blogapi.web.api", "blogapi.web.errors"),
    ]:
        planted.add_import(importer=importer, imported=imported)
    assert module_cycles(planted) == [
        ("blogapi.db.engine", "blogapi.web.errors", "blogapi.db.errors", "blogapi.db.engine")
    ]

    source = (
        "from typing import TYPE_CHECKING\n"
        "import blogapi.web\n"
        "if TYPE_CHECKING:\n"
        "    from blogapi.db.models import User\n"
        "def f():\n"
        "    import json\n"
        "    from blogapi.db import models\n"
        "    from .api import make_api\n"
        "class C:\n"
        "    def g(self):\n"
        "        if TYPE_CHECKING:\n"
        "            import blogapi.extensions\n"
        "    import blogapiary\n"
    )
    assert [line for line, _ in local_imports(source)] == [7, 8, 12]
