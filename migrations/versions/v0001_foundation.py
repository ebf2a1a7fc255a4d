"""Foundation: schemas bus/trading/market_data, outbox, klines, roles, grants and reader views.

Revision ID: 0001
Revises:
Create Date: 2026-05-18
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from migrations import role_sql
from migrations.tables.base import NOW_MS, Xid8
from settings import roles

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMAS = ("bus", "trading", "market_data")
KLINES = ("spot_klines", "perp_klines")
MARKET_TABLES = ("market_data.spot_klines", "market_data.perp_klines", "market_data.source_freshness")
PRODUCER_COLUMNS = (
    "event_id, subject, payload, headers, schema_name, schema_version, producer, trace_id, created_at_ms"
)
DRAIN_COLUMNS = "published_at_ms, quarantined_at_ms, quarantine_reason, attempts"


def _list(names: Sequence[str]) -> str:
    return ", ".join(names)


def _create_outbox() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("event_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("payload", pg.BYTEA, nullable=False),
        sa.Column("headers", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("schema_name", sa.Text, nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("producer", sa.Text, nullable=False),
        sa.Column("trace_id", sa.Text, nullable=True),
        sa.Column("created_at_ms", sa.BigInteger, nullable=False, server_default=NOW_MS),
        sa.Column("txid", Xid8(), nullable=False, server_default=sa.text("pg_current_xact_id()")),
        sa.Column("published_at_ms", sa.BigInteger, nullable=True),
        sa.Column("quarantined_at_ms", sa.BigInteger, nullable=True),
        sa.Column("quarantine_reason", sa.Text, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
        sa.CheckConstraint(
            "producer IN ('data', 'bot', 'executor', 'risk', 'manager')",
            name=op.f("ck_outbox_producer"),
        ),
        sa.CheckConstraint("subject <> ''", name=op.f("ck_outbox_subject_not_empty")),
        sa.CheckConstraint("schema_version >= 1", name=op.f("ck_outbox_schema_version_positive")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_outbox_attempts_not_negative")),
        sa.CheckConstraint(
            "(quarantined_at_ms IS NULL) = (quarantine_reason IS NULL)",
            name=op.f("ck_outbox_quarantine_has_reason"),
        ),
        schema="bus",
    )
    # The drain's scan: unpublished, unquarantined rows in id order.
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["id"],
        schema="bus",
        postgresql_where=sa.text("published_at_ms IS NULL AND quarantined_at_ms IS NULL"),
    )
    # Retention: delete rows published before a cutoff.
    op.create_index(
        "ix_outbox_published_at_ms",
        "outbox",
        ["published_at_ms"],
        schema="bus",
        postgresql_where=sa.text("published_at_ms IS NOT NULL"),
    )


def _create_klines(name: str) -> None:
    op.create_table(
        name,
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("tf", sa.Text, nullable=False),
        sa.Column("open_time_ms", sa.BigInteger, nullable=False),
        sa.Column("close_time_ms", sa.BigInteger, nullable=False),
        sa.Column("open", sa.Double, nullable=False),
        sa.Column("high", sa.Double, nullable=False),
        sa.Column("low", sa.Double, nullable=False),
        sa.Column("close", sa.Double, nullable=False),
        sa.Column("volume", sa.Numeric, nullable=False),
        sa.Column("quote_volume", sa.Numeric, nullable=False),
        sa.Column("trades", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("symbol", "tf", "open_time_ms", name=op.f(f"pk_{name}")),
        sa.CheckConstraint("symbol ~ '^[A-Z0-9]+$'", name=op.f(f"ck_{name}_symbol_binance_native")),
        sa.CheckConstraint("tf IN ('1m', '5m', '15m', '1h', '4h', '1d')", name=op.f(f"ck_{name}_tf")),
        sa.CheckConstraint("high >= low", name=op.f(f"ck_{name}_high_not_below_low")),
        sa.CheckConstraint("close_time_ms > open_time_ms", name=op.f(f"ck_{name}_close_after_open")),
        schema="market_data",
    )


def _create_market_data() -> None:
    for name in KLINES:
        _create_klines(name)
    op.create_table(
        "source_freshness",
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("last_event_ms", sa.BigInteger, nullable=False),
        sa.Column("last_ingest_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_source_freshness")),
        schema="market_data",
    )
    # Runtime services read klines only through this view (it runs with its owner's rights).
    columns = "symbol, tf, open_time_ms, close_time_ms, open, high, low, close, volume, quote_volume, trades"
    op.execute(
        f"""
        CREATE VIEW market_data.v_klines_reader AS
            SELECT 'spot'::text AS market, {columns} FROM market_data.spot_klines
            UNION ALL
            SELECT 'perp'::text AS market, {columns} FROM market_data.perp_klines
        """
    )


def _provision_roles() -> None:
    for role in roles.ALL_ROLES:
        op.execute(role_sql.ensure_role_sql(role))
        op.execute(role_sql.search_path_sql(role))


def _grant() -> None:
    producers = _list(roles.PRODUCER_ROLES)
    readers = _list(roles.RUNTIME_READER_ROLES)
    lab = roles.LAB_READER
    op.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    op.execute(f"REVOKE ALL ON SCHEMA {_list(SCHEMAS)} FROM PUBLIC")

    # bus: producers append, the drain reads, marks and deletes, nobody else touches it.
    op.execute(f"GRANT USAGE ON SCHEMA bus TO {producers}, {roles.DRAIN}, {lab}")
    op.execute(f"GRANT INSERT ({PRODUCER_COLUMNS}) ON bus.outbox TO {producers}")
    op.execute(f"GRANT USAGE ON SEQUENCE bus.outbox_id_seq TO {producers}")
    op.execute(f"GRANT SELECT, DELETE, UPDATE ({DRAIN_COLUMNS}) ON bus.outbox TO {roles.DRAIN}")

    # market_data: gordon-data is the sole writer; runtime services read the named view only.
    op.execute(f"GRANT USAGE ON SCHEMA market_data TO {roles.DATA_WRITER}, {readers}, {lab}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON {_list(MARKET_TABLES)} TO {roles.DATA_WRITER}")
    op.execute(f"GRANT SELECT ON market_data.v_klines_reader TO {readers}")

    # trading: tables arrive with later revisions, each granting its own rights.
    op.execute(f"GRANT USAGE ON SCHEMA trading TO {readers}, {roles.PROJECTOR}, {lab}")

    # The lab reads everything, tables and views, and writes nothing.
    op.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {_list(SCHEMAS)} TO {lab}")


def _default_privileges() -> None:
    """Objects later revisions create get the same treatment without repeating it."""
    op.execute("ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC")
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {_list(SCHEMAS)} GRANT SELECT ON TABLES TO {roles.LAB_READER}"
    )
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA market_data "
        f"GRANT SELECT, INSERT, UPDATE ON TABLES TO {roles.DATA_WRITER}"
    )


def upgrade() -> None:
    """Create roles (if missing), schemas, tables, the reader view and every grant."""
    _provision_roles()
    for schema in SCHEMAS:
        op.execute(f"CREATE SCHEMA {schema}")
    _create_outbox()
    _create_market_data()
    _grant()
    _default_privileges()


def downgrade() -> None:
    """Drop this database's schemas and views; roles stay (other databases may use them)."""
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {_list(SCHEMAS)} REVOKE SELECT ON TABLES FROM {roles.LAB_READER}"
    )
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA market_data "
        f"REVOKE SELECT, INSERT, UPDATE ON TABLES FROM {roles.DATA_WRITER}"
    )
    op.execute("ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC")
    op.execute("DROP VIEW market_data.v_klines_reader")
    op.drop_table("source_freshness", schema="market_data")
    for name in KLINES:
        op.drop_table(name, schema="market_data")
    op.drop_table("outbox", schema="bus")
    for schema in reversed(SCHEMAS):
        op.execute(f"DROP SCHEMA {schema}")
