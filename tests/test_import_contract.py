"""The import contract: every import between the project's top-level packages is one the README's layout
table allows, and the packages form no cycle. The table is the contract; this test reads it."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVERYTHING = "everything"
EXCEPTIONS = {("registry/compat/export.py", "schemas")}
"""Imports the README names as exceptions: export.py's `main` runs on another git ref's tree."""


def contract() -> dict[str, set[str] | None]:
    """package -> the packages it may import (None: everything), from the README's layout table."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Layout\n", 1)[1].split("\n## ", 1)[0]
    allowed: dict[str, set[str] | None] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not re.fullmatch(r"`\w+/`", cells[0]):
            continue
        package = cells[0].strip("`/")
        if not (ROOT / package / "__init__.py").exists():
            continue
        names = set(re.findall(r"`(\w+)`", cells[2]))
        allowed[package] = None if cells[2] == EVERYTHING else names
    return allowed


def imports(path: Path) -> Iterator[str]:
    """Top-level module names imported anywhere in `path` (functions included; relative ones resolved)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                yield path.relative_to(ROOT).parts[0]
            elif node.module:
                yield node.module.split(".")[0]


def edges() -> dict[str, dict[str, list[str]]]:
    """package -> imported package -> the files that import it."""
    packages = set(contract())
    found: dict[str, dict[str, list[str]]] = {p: {} for p in packages}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            shown = str(path.relative_to(ROOT))
            for target in set(imports(path)):
                if target in packages and target != package and (shown, target) not in EXCEPTIONS:
                    found[package].setdefault(target, []).append(shown)
    return found


def test_the_readme_table_names_every_package() -> None:
    on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert set(contract()) == on_disk


@pytest.mark.parametrize("package", sorted(contract()))
def test_imports_follow_the_layers(package: str) -> None:
    allowed = contract()[package]
    if allowed is None:
        return
    wrong = {target: files for target, files in edges()[package].items() if target not in allowed}
    assert not wrong, f"{package} may import only {sorted(allowed)}; it imports {wrong}"


def test_no_cycles_between_packages() -> None:
    graph = {package: set(targets) for package, targets in edges().items()}
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            pytest.fail("import cycle: " + " -> ".join([*path[path.index(node) :], node]))
        if node in done:
            return
        for target in sorted(graph[node]):
            visit(target, [*path, node])
        done.add(node)

    for package in sorted(graph):
        visit(package, [])


def test_only_the_cli_imports_services_and_migrations() -> None:
    found = edges()
    for target in ("services", "migrations"):
        importers = {p for p, targets in found.items() if target in targets}
        assert importers <= {"gordon"}, f"{target} imported at run time by {importers}"
