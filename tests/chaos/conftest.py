"""The chaos suites' seed: random unless GORDON_CHAOS_SEED names one; always printed, so a failing run
can be replayed with the same fault plan."""

from __future__ import annotations

import os
import secrets

import pytest

SEED = "GORDON_CHAOS_SEED"


@pytest.fixture
def seed() -> int:
    chosen = int(os.environ.get(SEED) or secrets.randbits(32))
    print(f"\nchaos seed {chosen} (rerun with {SEED}={chosen})")
    return chosen
