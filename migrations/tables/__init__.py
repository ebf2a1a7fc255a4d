"""SQLAlchemy metadata of every table the revisions create, one module per schema.

The revisions spell out their DDL (a revision is frozen history); a test compares the migrated
database with this metadata, so the two cannot drift apart.
"""

from __future__ import annotations

from migrations.tables import bots, bus, market_data, paper, sessions, trading
from migrations.tables.base import SCHEMAS, metadata

__all__ = ["SCHEMAS", "bots", "bus", "market_data", "metadata", "paper", "sessions", "trading"]
