"""`gordon schemas check|lock|rules`: the compatibility gate over schemas/ and its lock file."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from gordon.paths import ROOT
from settings.errors import GordonError

if TYPE_CHECKING:
    from gordon.commands import Subparsers
    from registry.compat.findings import Finding
    from registry.compat.lock import Lock
    from registry.registry import Registry

LOCK_PATH = ROOT / "schemas" / "schemas.lock.json"
FORMATS = ("text", "json")
USAGE = 2


def register(subparsers: Subparsers) -> None:
    """Add `schemas` and its subcommands `check`, `lock` and `rules`."""
    parser = subparsers.add_parser(
        "schemas",
        help="check the registry against the schema lock, update the lock, list the rules",
        description="The compatibility gate: registry lint plus the compatibility rules, against "
        "schemas/schemas.lock.json or another git ref.",
    )
    parser.set_defaults(handler=lambda _: _usage(parser))
    commands = parser.add_subparsers(title="subcommands", dest="schemas_command", metavar="SUBCOMMAND")
    check = commands.add_parser(
        "check",
        help="exit 1 when the registry breaks the lock (or --against REF), 0 otherwise",
        description="Run the registry lint and every compatibility rule; print one line per finding. "
        "Exit 0 when compatible (warnings allowed), 1 on any error, 2 on a usage error.",
    )
    check.add_argument("--against", metavar="GIT_REF", help="compare with the registry at this git ref")
    check.add_argument("--format", default="text", metavar="FORMAT", help="text (default) or json")
    check.add_argument("--lock", type=Path, default=LOCK_PATH, metavar="PATH", help="the lock file")
    check.set_defaults(handler=_run_check)
    lock = commands.add_parser(
        "lock",
        help="record the current schemas in the lock; refuses when the check finds an error",
        description="Append a revision for each (subject, version) whose schema changed and add new "
        "subjects and versions, only when `gordon schemas check` has no error.",
    )
    lock.add_argument("--lock", type=Path, default=LOCK_PATH, metavar="PATH", help="the lock file")
    lock.set_defaults(handler=_run_lock)
    rules = commands.add_parser("rules", help="list every rule id (C* compatibility, L* lint)")
    rules.set_defaults(handler=lambda _: print_rules(sys.stdout))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_usage(sys.stderr)
    return USAGE


def _registry() -> Registry:
    """`schemas.REGISTRY`, imported here so that `rules` needs no payload model; a schema module that
    fails to import is one GordonError line naming it. Nothing outside schemas/ and registry/ is
    imported, so a module elsewhere that a schema change broke cannot decide the verdict."""
    from gordon.loading import load
    from registry.registry import Registry

    registry = getattr(load("schemas"), "REGISTRY", None)
    if not isinstance(registry, Registry):
        raise GordonError("schemas/__init__.py defines no REGISTRY (a registry.registry.Registry)")
    return registry


def _run_check(args: argparse.Namespace) -> int:
    return check(_registry(), args.lock, against=args.against, fmt=args.format)


def _run_lock(args: argparse.Namespace) -> int:
    return lock(_registry(), args.lock)


def check(
    registry: Registry,
    lock_path: Path,
    *,
    against: str | None = None,
    fmt: str = "text",
    today: date | None = None,
    root: Path = ROOT,
    out: TextIO | None = None,
) -> int:
    """`gordon schemas check`: print the findings; 0 when none is an error, 1 when one is, 2 on a
    usage error (an unknown format or git ref, a lock that is missing or cannot be read), each said
    in one line on stderr."""
    from registry.compat.gate import error_count
    from registry.compat.git_ref import RefError, RefLoadError, lock_at

    out = out or sys.stdout
    if fmt not in FORMATS:
        return _usage_error("check", f"unknown --format {fmt!r}; use text or json")
    if against is None:
        try:
            locked = _read(lock_path)
        except LockUnreadable as error:
            return _usage_error("check", str(error))
        if locked is None:
            message = (
                f"{_shown(lock_path)} is missing: run `gordon schemas lock` to write it (or pass --lock)"
            )
            return _usage_error("check", message)
        baseline = locked
    else:
        try:
            baseline = lock_at(root, against)
        except RefError as error:
            return _usage_error("check", str(error))
        except RefLoadError as error:
            raise GordonError(str(error)) from None
    findings = _gate(registry, baseline, today=today, lock_warnings=against is None)
    report(findings, fmt, out)
    return 1 if error_count(findings) else 0


def lock(registry: Registry, lock_path: Path, *, today: date | None = None, out: TextIO | None = None) -> int:
    """`gordon schemas lock`: record the registry in the lock when the check finds no error; else print
    the errors and refuse (GordonError, exit 1). A lock that exists but cannot be read is exit 2."""
    from registry.compat.findings import Severity
    from registry.compat.lock import Lock, current, updated, write

    out = out or sys.stdout
    try:
        baseline = _read(lock_path) or Lock()
    except LockUnreadable as error:
        return _usage_error("lock", str(error))
    findings = _gate(registry, baseline, today=today, lock_warnings=False)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if errors:
        for item in errors:
            print(item, file=sys.stderr)
        rules = ", ".join(sorted({f.rule for f in errors}))
        raise GordonError(f"refusing to lock: {len(errors)} error(s) ({rules}); see `gordon schemas check`")
    new, changes = updated(baseline, current(registry))
    if not changes and lock_path.is_file():
        print(f"gordon schemas lock: {_shown(lock_path)} is up to date", file=out)
        return 0
    try:
        write(lock_path, new)
    except OSError as error:
        raise GordonError(f"cannot write {lock_path}: {error.strerror or error}") from None
    for change in changes:
        print(f"  {change}", file=out)
    print(f"gordon schemas lock: wrote {_shown(lock_path)} ({len(changes)} change(s))", file=out)
    return 0


class LockUnreadable(Exception):
    """A lock path that exists but cannot be read or parsed (a usage error: exit 2, not a break)."""


def _usage_error(command: str, message: str) -> int:
    print(f"gordon schemas {command}: {message}", file=sys.stderr)
    return USAGE


def _read(path: Path) -> Lock | None:
    """The lock at `path`, None when there is no file there; LockUnreadable (one line) otherwise."""
    from registry.compat.lock import LockError, read

    try:
        return read(path)
    except LockError as error:
        raise LockUnreadable(f"{_shown(path)}: {error}") from None
    except UnicodeDecodeError as error:
        raise LockUnreadable(f"{_shown(path)}: not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise LockUnreadable(f"cannot read {_shown(path)}: {error.strerror or error}") from None


def _gate(registry: Registry, baseline: Lock, *, today: date | None, lock_warnings: bool) -> list[Finding]:
    """The gate's findings; a payload model pydantic cannot turn into a JSON Schema is one GordonError
    line naming the model's module, not a traceback."""
    from pydantic.errors import PydanticUserError

    from gordon.loading import describe
    from registry.compat.gate import gate

    try:
        return gate(registry, baseline, today=today, lock_warnings=lock_warnings)
    except PydanticUserError as error:
        raise GordonError(f"cannot build the JSON Schemas of the registry: {describe(error)}") from None


def report(findings: list[Finding], fmt: str, out: TextIO) -> None:
    """One line per finding and a summary (text), or one JSON document (json)."""
    from registry.compat.findings import Severity

    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    warnings = len(findings) - errors
    if fmt == "json":
        document = {"findings": [f.to_dict() for f in findings], "errors": errors, "warnings": warnings}
        out.write(json.dumps(document, indent=2, default=str) + "\n")
        return
    for item in findings:
        print(item, file=out)
    print(f"schemas check: {errors} errors, {warnings} warnings", file=out)


def print_rules(out: TextIO) -> int:
    """`gordon schemas rules`: every rule id, its severity and what it means."""
    from registry.compat.gate import ALL_RULES

    for rule_id in sorted(ALL_RULES):
        severity, summary = ALL_RULES[rule_id]
        print(f"{rule_id}  {severity.value:<7}  {summary}", file=out)
    return 0


def _shown(path: Path) -> str:
    """`path` relative to the project root when inside it (shorter messages)."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
