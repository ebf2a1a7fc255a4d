"""Start server processes as direct children that die with us, even when we are SIGKILLed.

Each child arms PR_SET_PDEATHSIG in `preexec_fn`. CPython runs `preexec_fn` after it has
switched to `user=`/`group=` (a uid change clears the death signal, so the order matters; a
test checks it). Linux sends the signal when the *thread* that forked the child exits: start
servers from a thread that lives as long as they should (the main thread).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PR_SET_PDEATHSIG = 1
PR_GET_PDEATHSIG = 2

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class Account:
    """A system user (and its primary group) that a child process runs as."""

    name: str
    uid: int
    gid: int


def spawn(
    argv: Sequence[str],
    *,
    log: Path,
    death_signal: signal.Signals,
    account: Account | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session, output appended to `log`, killed by `death_signal`
    when this process dies. Terminal Ctrl-C reaches only us, so we stop servers in order."""
    parent = os.getpid()
    signum = int(death_signal)

    def arm_death_signal() -> None:
        if _libc.prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(signum), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    with log.open("ab") as out:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=arm_death_signal,
            user=account.uid if account else None,
            group=account.gid if account else None,
            extra_groups=[] if account else None,
        )


def end(process: subprocess.Popen[bytes], signals: Sequence[signal.Signals], timeout: float) -> bool:
    """Send each of `signals` in turn, waiting up to `timeout` seconds after each for `process`
    to exit; True once it has exited (and been reaped), False if it outlived them all."""
    for sig in signals:
        if process.poll() is not None:
            return True
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            continue
    return process.poll() is not None
