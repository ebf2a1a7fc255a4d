"""The registry as declared at another git ref, in lock shape: `schemas/` and `registry/` of that ref are
extracted to a temporary folder and imported in a subprocess that prints `export.py`'s document."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from registry.compat import export
from registry.compat.lock import Lock, LockError, parse

TREES = ("schemas", "registry")
TIMEOUT_S = 120.0

# The tree comes first on sys.path, so `schemas` and `registry` are that ref's; export.py runs by path.
_RUNNER = (
    "import runpy, sys; sys.path.insert(0, sys.argv[1]); runpy.run_path(sys.argv[2], run_name='__main__')"
)


class RefError(ValueError):
    """A git ref that names no commit (a usage error)."""


class RefLoadError(RuntimeError):
    """A commit whose registry cannot be extracted or imported; the message is one line."""


def resolve(root: Path, ref: str) -> str:
    """The commit id `ref` names in the repository at `root`; RefError when it names none."""
    if not ref or ref.startswith("-"):
        raise RefError(f"not a git ref: {ref!r}")
    result = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if result.returncode != 0:
        raise RefError(f"unknown git ref {ref!r}")
    return result.stdout.decode().strip()


def lock_at(root: Path, ref: str) -> Lock:
    """The registry at `ref` as a lock with one revision per (subject, version)."""
    commit = resolve(root, ref)
    archive = _git(root, "archive", "--format=tar", commit, *TREES)
    if archive.returncode != 0:
        raise RefLoadError(f"{ref}: cannot extract {'/, '.join(TREES)}/: {_last_line(archive.stderr)}")
    with tempfile.TemporaryDirectory(prefix="gordon-schemas-") as folder:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(folder, filter="data")
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("PYTHONPATH", None)
        try:
            result = subprocess.run(
                [sys.executable, "-c", _RUNNER, folder, export.__file__],
                cwd=folder,
                env=env,
                capture_output=True,
                timeout=TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RefLoadError(f"{ref}: importing its registry took over {TIMEOUT_S:.0f} s") from None
    if result.returncode != 0:
        raise RefLoadError(f"{ref}: cannot import its registry: {_last_line(result.stderr)}")
    try:
        return parse(json.loads(result.stdout))
    except (json.JSONDecodeError, LockError) as error:
        raise RefLoadError(f"{ref}: its registry printed no valid lock document: {error}") from None


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, timeout=TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RefLoadError(f"cannot run git: {error}") from None


def _last_line(stderr: bytes) -> str:
    lines = stderr.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else "no error output"
