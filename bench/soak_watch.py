"""What the soak watches: when each projection batch was applied, where each event sits in gordon-history,
and the memory of every process over time."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import time
from dataclasses import dataclass, field

import asyncpg
import psutil
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from projections import generations
from projections.catalog import PROJECTIONS
from registry import headers as h
from schemas import REGISTRY

APPLIED_LOG = """
CREATE TABLE IF NOT EXISTS public.soak_applied (projection text NOT NULL, last_seq bigint NOT NULL,
    at_ns bigint NOT NULL);
CREATE OR REPLACE FUNCTION public.soak_note_applied() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    INSERT INTO public.soak_applied VALUES (TG_ARGV[0], NEW.last_seq,
        (extract(epoch FROM clock_timestamp()) * 1e9)::bigint);
    RETURN NEW;
END $$;
"""


async def install_applied_log(conn: asyncpg.Connection, names: tuple[str, ...]) -> dict[str, str]:
    """A trigger on each live generation's tracking row noting (last_seq, clock_timestamp()) whenever a
    batch moves it: the moment inside the runner's transaction, just before its commit, that its rows
    were written. Returns the schema of each projection."""
    await conn.execute(APPLIED_LOG)
    schemas = {}
    for name in names:
        projection = PROJECTIONS[name]
        generation = await generations.live_generation(conn, projection)
        if generation is None:
            raise RuntimeError(f"projection {name} has no live generation")
        schema = schemas[name] = generations.schema_of(projection, generation)
        await conn.execute(
            f"CREATE TRIGGER soak_applied AFTER UPDATE ON {schema}.tracking FOR EACH ROW "
            f"WHEN (NEW.last_seq > OLD.last_seq) EXECUTE FUNCTION public.soak_note_applied('{name}')"
        )
    return schemas


async def applied_times(conn: asyncpg.Connection, name: str) -> tuple[list[int], list[int]]:
    """A projection's noted batches: last_seq ascending, and when each was applied (ns)."""
    rows = await conn.fetch(
        "SELECT last_seq, at_ns FROM public.soak_applied WHERE projection = $1 ORDER BY last_seq", name
    )
    return [r[0] for r in rows], [r[1] for r in rows]


def applied_at(seqs: list[int], times: list[int], seq: int) -> int | None:
    """When the first batch covering history sequence `seq` was applied, or None if none did."""
    i = bisect.bisect_left(seqs, seq)
    return times[i] if i < len(seqs) else None


@dataclass
class HistoryIndex:
    """Every trading message gordon-history holds, by Msg-Id: its sequence, when this process received
    it (drain + sourcing + delivery, without the runner), and any duplicate."""

    seq: dict[str, int] = field(default_factory=dict)
    arrived_ns: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    _sub: Subscription | None = None

    async def start(self, client: NatsClient) -> None:
        async def on_msg(msg: Msg) -> None:
            key = (msg.headers or {}).get(h.MSG_ID, "")
            if key in self.seq:
                self.duplicates += 1
            self.seq[key] = msg.metadata.sequence.stream
            self.arrived_ns[key] = time.time_ns()

        self._sub = await client.jetstream().subscribe(
            "trading.>",
            stream=REGISTRY.history.name,
            cb=on_msg,
            ordered_consumer=True,
            idle_heartbeat=2.0,
            pending_msgs_limit=1024 * 1024,
            pending_bytes_limit=512 * 1024 * 1024,
        )

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()


@dataclass
class Memory:
    """Memory samples (MiB) of named processes over time: RSS of single processes, and for Postgres the
    PSS summed over the postmaster and its backends (shared buffers counted once, not per backend)."""

    pids: dict[str, int]
    tree: frozenset[str] = frozenset({"postgres"})
    _cpu_first: dict[str, float] = field(default_factory=dict)
    _cpu_now: dict[str, float] = field(default_factory=dict)
    samples: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    cpu_s: dict[str, float] = field(default_factory=dict)
    """CPU seconds (user + system) each process used while sampled (its children's too for a tree)."""

    def sample(self, t: float) -> None:
        row: dict[str, float] = {}
        for name, pid in self.pids.items():
            try:
                process = psutil.Process(pid)
                procs = [process, *process.children(recursive=True)] if name in self.tree else [process]
                if name in self.tree:
                    row[name] = sum(_pss(p) for p in procs) / 2**20
                else:
                    row[name] = process.memory_info().rss / 2**20
                self._cpu_now[name] = sum(_cpu(p) for p in procs)
                self._cpu_first.setdefault(name, self._cpu_now[name])
                self.cpu_s[name] = self._cpu_now[name] - self._cpu_first[name]
            except psutil.Error:
                continue
        self.samples.append((t, row))

    async def run(self, every_s: float, stop: asyncio.Event) -> None:
        start = time.monotonic()
        while not stop.is_set():
            self.sample(time.monotonic() - start)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)
        self.sample(time.monotonic() - start)

    def series(self, name: str) -> list[tuple[float, float]]:
        return [(t, row[name]) for t, row in self.samples if name in row]

    def growth_mib_per_h(self, name: str, from_s: float, until_s: float) -> float:
        """Least-squares slope of `name`'s memory between `from_s` and `until_s`, extrapolated to an hour."""
        points = [(t, m) for t, m in self.series(name) if from_s <= t <= until_s]
        if len(points) < 2:
            return float("nan")
        n = len(points)
        mean_t = sum(t for t, _ in points) / n
        mean_m = sum(m for _, m in points) / n
        var = sum((t - mean_t) ** 2 for t, _ in points)
        if var == 0:
            return float("nan")
        slope = sum((t - mean_t) * (m - mean_m) for t, m in points) / var
        return slope * 3600


def _cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.Error:
        return 0.0
    return float(times.user + times.system)


def _pss(process: psutil.Process) -> int:
    try:
        return int(process.memory_full_info().pss)
    except (psutil.Error, AttributeError):
        return 0
