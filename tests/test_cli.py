"""The `gordon` entry point: only the chosen command's module is imported, the command table matches
the modules, and an import failure anywhere is one line, never a traceback."""

from __future__ import annotations

import argparse
import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import gordon.commands
from gordon.cli import chosen, main
from gordon.commands import COMMANDS, module_name
from gordon.paths import ROOT

HEAVY = ("sqlalchemy", "alembic", "asyncpg", "polars")
"""What `gordon schemas check` must not import (the database and dataframe stacks)."""
OTHER_TEAMS = ("domain", "consumers", "producers", "stores", "projections", "services", "migrations")
"""Packages the gate must not import: their import cannot decide a schema verdict."""
SOURCE_TREES = ("gordon", "settings", "registry", "schemas", "domain")

_IMPORTED = (
    "import sys\n"
    "sys.argv = ['gordon', *sys.argv[1:]]\n"
    "try:\n"
    "    code = __import__('gordon.cli', fromlist=['main']).main()\n"
    "except SystemExit as done:\n"
    "    code = done.code\n"
    "print('MODULES', ' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def run_gordon(*args: str, cwd: Path = ROOT, tree: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`gordon ARGS` in a fresh interpreter, printing the modules it imported on a last stderr line;
    with `tree`, that folder's source trees shadow the project's."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    return subprocess.run(
        [sys.executable, "-c", _IMPORTED, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def split(result: subprocess.CompletedProcess[str]) -> tuple[list[str], set[str]]:
    """The stderr lines before the module list, and the top-level names of the imported modules."""
    *lines, last = result.stderr.splitlines()
    assert last.startswith("MODULES "), result.stderr
    return lines, {name.split(".")[0] for name in last.split()[1:]} | set(last.split()[1:])


def test_table_lists_every_command_module_with_its_help() -> None:
    found = {m.name for m in pkgutil.iter_modules(gordon.commands.__path__) if not m.name.startswith("_")}
    assert {module_name(c).rsplit(".", 1)[1] for c in COMMANDS} == found
    for command, help_text in COMMANDS.items():
        parser = argparse.ArgumentParser()
        subparsers = parser.add_subparsers()
        __import__(module_name(command), fromlist=["register"]).register(subparsers)
        assert [a.dest for a in subparsers._choices_actions] == [command]
        assert subparsers._choices_actions[0].help == help_text, command


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["schemas", "check"], "schemas"),
        (["--help"], None),
        (["-h", "up"], "up"),
        (["nope"], None),
        ([], None),
    ],
)
def test_the_chosen_command_is_the_first_argument(argv: list[str], command: str | None) -> None:
    assert chosen(argv) == command


def test_help_imports_no_command_module() -> None:
    result = run_gordon("--help")
    assert result.returncode == 0, result.stderr
    for command in COMMANDS:
        assert command in result.stdout
    _, modules = split(result)
    assert not {m for m in modules if m.startswith("gordon.commands.")}
    assert "schemas" not in modules
    assert "registry" not in modules


def test_schemas_check_imports_only_schemas_and_registry() -> None:
    result = run_gordon("schemas", "check")
    lines, modules = split(result)
    assert result.returncode == 0, lines
    assert result.stdout.splitlines()[-1] == "schemas check: 0 errors, 0 warnings"
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))
    assert modules.isdisjoint(OTHER_TEAMS), sorted(modules & set(OTHER_TEAMS))
    assert "gordon.commands" in modules
    assert "gordon.commands.schemas" in modules
    assert not {m for m in modules if m.startswith("gordon.commands.")} - {"gordon.commands.schemas"}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the source trees the gate and the domain live in, to break on purpose."""
    for name in SOURCE_TREES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_removed_enum_value_still_used_by_the_domain_is_c321(tree: Path) -> None:
    _edit(tree / "schemas" / "trading.py", '    CANCELLED = "cancelled"\n', "")
    premise = subprocess.run(
        [sys.executable, "-c", "import domain.order_aggregate"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "AttributeError: CANCELLED" in premise.stderr  # the domain no longer imports
    result = run_gordon("schemas", "check", cwd=tree, tree=tree)
    lines, modules = split(result)
    assert result.returncode == 1, lines
    assert lines == []
    out = result.stdout.splitlines()
    assert any(
        line.startswith("C321 error trading.orders.{bot_id} v1 $.kind: enum value 'cancelled'")
        for line in out
    )
    assert "domain" not in modules


def test_a_schema_module_that_fails_to_import_is_one_line(tree: Path) -> None:
    _edit(
        tree / "schemas" / "trading.py",
        "class Liquidity(StrEnum):",
        "Liquidity = Side.NOPE\n\n\nclass _L(StrEnum):",
    )
    result = run_gordon("schemas", "check", cwd=tree, tree=tree)
    lines, _ = split(result)
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(lines) == 1, lines
    assert lines[0].startswith("gordon schemas: cannot import schemas: schemas.trading (schemas/trading.py:")
    assert lines[0].endswith("AttributeError: NOPE")
    rules = run_gordon("schemas", "rules", cwd=tree, tree=tree)
    assert rules.returncode == 0, rules.stderr
    assert "C321  error" in rules.stdout
    assert run_gordon("--help", cwd=tree, tree=tree).returncode == 0
    assert run_gordon("schemas", "--help", cwd=tree, tree=tree).returncode == 0


def test_a_command_whose_module_fails_to_import_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "gordon.commands.dlq", None)  # an import of it raises ImportError
    assert main(["dlq", "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("gordon dlq: cannot import gordon.commands.dlq: ModuleNotFoundError: ")
    assert len(err.splitlines()) == 1
    assert main(["schemas", "rules"]) == 0


def test_a_loosened_bound_in_the_real_schemas_is_a_break(tree: Path) -> None:
    _edit(
        tree / "schemas" / "common.py",
        "Price = Annotated[float, Field(gt=0,",
        "Price = Annotated[float, Field(ge=0,",
    )
    result = run_gordon("schemas", "check", cwd=tree, tree=tree)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout.splitlines()
    assert any(
        line.startswith("C332 error trading.fills.{bot_id} v1 $.price: lower bound loosened") for line in out
    )
    assert any(line.startswith("C501 error trading.fills.{bot_id} v1 $: ") for line in out)
