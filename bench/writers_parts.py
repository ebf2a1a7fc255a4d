"""What each part of an outbox row's write costs a one-insert `publish_within` transaction: the bare
domain write against `publish_within` with the outbox as migrated, then with its statement trigger, its
pending index or its event_id unique index dropped (and all three), in a throwaway database. Each
variant alternates plain and within slices in a random order every round, so drift favours neither.

    python -m bench.writers_parts [--quick]

A measurement only: every part dropped here carries a guarantee (the trigger wakes a sleeping drain,
the pending index keeps the drain's scan off the published rows retention keeps, the unique index
refuses a second row of one event), so the numbers say what a leaner row could gain, not what to drop.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics

import asyncpg

from bench.drain import DOMAIN
from bench.report import closing_line, record
from bench.servers import bench_servers
from bench.writers import slice_rate, writes

TRIGGER = (
    "DROP TRIGGER outbox_wake ON bus.outbox",
    "CREATE TRIGGER outbox_wake AFTER INSERT ON bus.outbox "
    "FOR EACH STATEMENT EXECUTE FUNCTION bus.outbox_wake()",
)
PENDING = (
    "DROP INDEX bus.ix_outbox_pending",
    "CREATE INDEX ix_outbox_pending ON bus.outbox (id) "
    "WHERE published_at_ms IS NULL AND quarantined_at_ms IS NULL",
)
UNIQUE = (
    "ALTER TABLE bus.outbox DROP CONSTRAINT uq_outbox_event_id",
    "ALTER TABLE bus.outbox ADD CONSTRAINT uq_outbox_event_id UNIQUE (event_id)",
)
VARIANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "as migrated": (),
    "no statement trigger": (TRIGGER,),
    "no pending index": (PENDING,),
    "no event_id unique index": (UNIQUE,),
    "none of the three": (TRIGGER, PENDING, UNIQUE),
}


async def measure(dsn: str, rounds: int, seconds: float) -> dict[str, float]:
    """Median within ÷ plain per variant; each round visits the variants in a fresh random order."""
    conns = [await asyncpg.connect(dsn) for _ in range(8)]
    modes = writes(False)
    ratios: dict[str, list[float]] = {v: [] for v in VARIANTS}
    rng = random.Random(11)
    try:
        await conns[0].execute(DOMAIN)
        for _ in range(rounds):
            for variant in rng.sample(list(VARIANTS), len(VARIANTS)):
                parts = VARIANTS[variant]
                await conns[0].execute("TRUNCATE bus.outbox")
                for drop, _ in parts:
                    await conns[0].execute(drop)
                rates = {}
                for name in rng.sample(["plain", "within"], 2):
                    rates[name] = await slice_rate(conns, modes[name], seconds)
                ratios[variant].append(rates["within"] / rates["plain"])
                await conns[0].execute("TRUNCATE bus.outbox")
                for _, create in parts:
                    await conns[0].execute(create)
    finally:
        for c in conns:
            await c.close()
    return {v: statistics.median(r) for v, r in ratios.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.writers_parts", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="4 rounds of 1 s slices")
    args = parser.parse_args()
    rounds, seconds = (4, 1.0) if args.quick else (8, 2.0)
    with bench_servers(fsync=True) as servers:
        ratios = asyncio.run(measure(servers.dsn, rounds, seconds))
    base = ratios["as migrated"]
    lines = [
        f"One domain insert per transaction, 8 writer connections, fsync on, {rounds} rounds of "
        f"{seconds:g} s slices (plain and within alternating per variant); medians of within ÷ plain.",
        "",
        "| outbox | within ÷ plain | change |",
        "|---|---:|---:|",
        *(f"| {v} | {r:.3f} | {r - base:+.3f} |" for v, r in ratios.items()),
        "",
        "Each part dropped here carries a guarantee (the trigger wakes a sleeping drain, the pending index "
        "keeps the drain's scan off retained published rows, the unique index refuses a second row of one "
        "event); the migrations keep all three unless dropping one gains more than the rounds' spread.",
    ]
    body = "\n".join(lines)
    print(body)
    record("writers_parts", body)
    print(
        closing_line("writers_parts", "within/plain without all three", ratios["none of the three"], ">=0.9")
    )


if __name__ == "__main__":
    main()
