"""`gordon schemas check|lock|rules`: exit codes, output formats, --against a git ref, the real repo."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gordon.cli import main
from gordon.commands.schemas import check, lock
from gordon.paths import ROOT
from registry.compat.gate import ALL_RULES
from schemas import REGISTRY
from settings.errors import GordonError
from tests.compat.gate_models import TEMPLATE, WidgetNoSide, WidgetV1, WidgetWithNote, registry, widgets

Capture = pytest.CaptureFixture[str]


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    """A lock recording the v1 widgets registry."""
    path = tmp_path / "schemas.lock.json"
    assert lock(registry(widgets(WidgetV1)), path) == 0
    return path


def test_lock_then_check_is_clean(lock_path: Path, capsys: Capture) -> None:
    capsys.readouterr()
    assert check(registry(widgets(WidgetV1)), lock_path) == 0
    assert capsys.readouterr().out == "schemas check: 0 errors, 0 warnings\n"


def test_removed_field_exits_1_naming_the_rule(lock_path: Path, capsys: Capture) -> None:
    capsys.readouterr()
    assert check(registry(widgets(WidgetNoSide)), lock_path) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"C201 error {TEMPLATE} v1 $.side: field 'side' removed")
    assert lines[1].startswith(f"C501 error {TEMPLATE} v1 $: ")
    assert lines[-1] == "schemas check: 2 errors, 0 warnings"


def test_additive_change_passes_with_a_warning_then_locks(lock_path: Path, capsys: Capture) -> None:
    grown = registry(widgets(WidgetWithNote))
    capsys.readouterr()
    assert check(grown, lock_path) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith(f"C505 warning {TEMPLATE} v1 $: ")
    assert out.endswith("schemas check: 0 errors, 1 warnings\n")
    assert lock(grown, lock_path) == 0
    assert f"{TEMPLATE} v1: revision 2" in capsys.readouterr().out
    assert len(json.loads(lock_path.read_text())["subjects"][TEMPLATE]["versions"]["1"]) == 2
    assert check(grown, lock_path) == 0
    assert lock(grown, lock_path) == 0
    assert "is up to date" in capsys.readouterr().out


def test_json_format(lock_path: Path, capsys: Capture) -> None:
    capsys.readouterr()
    assert check(registry(widgets(WidgetNoSide)), lock_path, fmt="json") == 1
    document = json.loads(capsys.readouterr().out)
    assert set(document) == {"findings", "errors", "warnings"}
    assert (document["errors"], document["warnings"]) == (2, 0)
    first = document["findings"][0]
    assert set(first) == {"rule", "severity", "subject", "version", "path", "message", "old", "new"}
    assert (first["rule"], first["severity"], first["subject"], first["version"], first["path"]) == (
        "C201",
        "error",
        TEMPLATE,
        1,
        "$.side",
    )


def test_lint_findings_surface(tmp_path: Path, capsys: Capture) -> None:
    loud = registry(widgets(WidgetV1, template="trading.Widgets.{bot_id}"))
    path = tmp_path / "lock.json"
    with pytest.raises(GordonError, match=r"^refusing to lock: 1 error\(s\) \(L105\)"):
        lock(loud, path)
    assert "L105 error trading.Widgets.{bot_id} $: " in capsys.readouterr().err
    assert not path.exists()


def test_lock_refuses_a_break_and_keeps_the_file(lock_path: Path, capsys: Capture) -> None:
    before = lock_path.read_bytes()
    with pytest.raises(GordonError, match=r"refusing to lock: 2 error\(s\) \(C201, C501\)"):
        lock(registry(widgets(WidgetNoSide)), lock_path)
    assert f"C201 error {TEMPLATE} v1 $.side" in capsys.readouterr().err
    assert lock_path.read_bytes() == before


def _lock_problems(tmp_path: Path) -> dict[str, Path]:
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    wrong = tmp_path / "wrong.json"
    wrong.write_text("[]", encoding="utf-8")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe{")
    folder = tmp_path / "folder.json"
    folder.mkdir()
    return {
        "is missing: run `gordon schemas lock`": tmp_path / "none.json",
        "not JSON": broken,
        'a lock is an object with a "subjects" object': wrong,
        "not UTF-8 text": binary,
        "cannot read": folder,
    }


def test_missing_or_unreadable_lock_exits_2_with_one_line(tmp_path: Path, capsys: Capture) -> None:
    for words, path in _lock_problems(tmp_path).items():
        assert check(registry(widgets(WidgetV1)), path) == 2, words
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith("gordon schemas check: ")
        assert words in captured.err
        assert len(captured.err.splitlines()) == 1


def test_lock_refuses_an_unreadable_lock_with_exit_2(tmp_path: Path, capsys: Capture) -> None:
    broken = _lock_problems(tmp_path)["not JSON"]
    assert lock(registry(widgets(WidgetV1)), broken) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gordon schemas lock: {broken}: not JSON")
    assert len(err.splitlines()) == 1
    assert broken.read_text(encoding="utf-8") == "{"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ([], 0),
        (["--lock", "{broken}"], 1),
        (["--lock", "{missing}"], 2),
        (["--lock", "{folder}"], 2),
        (["--format", "xml"], 2),
        (["--bogus"], 2),
    ],
)
def test_check_exit_codes_from_the_command_line(tmp_path: Path, args: list[str], code: int) -> None:
    """0 clean, 1 a break (a lock recording a field the registry no longer has), 2 a usage error."""
    locked = json.loads((ROOT / "schemas" / "schemas.lock.json").read_text(encoding="utf-8"))
    fill = locked["subjects"]["trading.fills.{bot_id}"]["versions"]["1"][0]
    fill["properties"]["note"] = {"type": "string", "title": "Note"}
    (tmp_path / "broken.json").write_text(json.dumps(locked), encoding="utf-8")
    (tmp_path / "folder").mkdir()
    paths = {
        "broken": tmp_path / "broken.json",
        "missing": tmp_path / "none.json",
        "folder": tmp_path / "folder",
    }
    gordon = Path(sys.executable).with_name("gordon")
    argv = [str(gordon), "schemas", "check", *(a.format(**paths) for a in args)]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    if code == 1:
        assert "C201 error trading.fills.{bot_id} v1 $.note: field 'note' removed" in result.stdout
    if code == 2:
        assert len(result.stderr.splitlines()) == 1, result.stderr


def test_bad_format_exits_2_with_one_line(lock_path: Path, capsys: Capture) -> None:
    capsys.readouterr()
    assert check(registry(widgets(WidgetV1)), lock_path, fmt="xml") == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "gordon schemas check: unknown --format 'xml'; use text or json\n"


def test_against_head_is_clean(capsys: Capture) -> None:
    assert main(["schemas", "check", "--against", "HEAD"]) == 0
    assert capsys.readouterr().out == "schemas check: 0 errors, 0 warnings\n"


@pytest.mark.parametrize("ref", ["no-such-ref-anywhere", "--output=x", "HEAD~100000"])
def test_bad_ref_exits_2_with_one_line(ref: str, capsys: Capture) -> None:
    assert main(["schemas", "check", f"--against={ref}"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1
    assert "git ref" in captured.err


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def other_repo(tmp_path: Path) -> Path:
    """A git repo holding this tree's schemas/ and registry/, with a field added to Fill and committed."""
    repo = tmp_path / "repo"
    for tree in ("schemas", "registry"):
        shutil.copytree(ROOT / tree, repo / tree, ignore=shutil.ignore_patterns("__pycache__"))
    trading = repo / "schemas" / "trading.py"
    text = trading.read_text()
    fill_end = "    liquidity: Liquidity\n    ts_ms: TimestampMs\n"
    assert text.count(fill_end) == 1
    trading.write_text(text.replace(fill_end, fill_end + '    note: str = ""\n'))
    git(repo, "init", "-q")
    git(repo, "add", "schemas", "registry")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "fill gets a note")
    return repo


def test_against_a_ref_imports_that_refs_registry(other_repo: Path, capsys: Capture) -> None:
    # the ref released Fill with `note`; the registry here has no `note`: a removed field
    assert check(REGISTRY, Path("unused"), against="HEAD", root=other_repo) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("C201 error trading.fills.{bot_id} v1 $.note: field 'note' removed (old=")
    assert lines[-1] == "schemas check: 2 errors, 0 warnings"


def test_against_a_ref_whose_registry_cannot_be_imported(other_repo: Path) -> None:
    (other_repo / "schemas" / "__init__.py").write_text("raise ImportError('half a refactor')\n")
    git(other_repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "broken")
    with pytest.raises(
        GordonError, match=r"^HEAD: cannot import its registry: ImportError: half a refactor$"
    ):
        check(REGISTRY, Path("unused"), against="HEAD", root=other_repo)


def test_rules_lists_every_rule(capsys: Capture) -> None:
    assert main(["schemas", "rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == sorted(ALL_RULES)
    assert "C501  error    a break on a locked version" in "\n".join(lines)
    assert any(line.startswith("L105  error") for line in lines)


def test_schemas_without_a_subcommand_is_a_usage_error(capsys: Capture) -> None:
    assert main(["schemas"]) == 2
    assert "usage: gordon schemas" in capsys.readouterr().err


def test_real_check_on_the_repo_exits_0() -> None:
    gordon = Path(sys.executable).with_name("gordon")
    result = subprocess.run(
        [str(gordon), "schemas", "check"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith("schemas check: 0 errors")
