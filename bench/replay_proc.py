"""A fixed-generation rebuild in its own process, so the replay benchmark can watch its RSS alone.

    python -m bench.replay_proc NATS_URL PROJECTOR_DSN GENERATION UNTIL_SEQ

Prints one JSON line of the runner's stats and the elapsed seconds when done.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import nats

from projections.orders import OrdersProjection
from projections.runner import Runner
from schemas import REGISTRY


async def run(nats_url: str, dsn: str, generation: int, until_seq: int) -> dict[str, object]:
    client = await nats.connect(nats_url)
    try:
        runner = Runner(OrdersProjection(), dsn, client.jetstream(), REGISTRY, generation=generation)
        start = time.perf_counter()
        stats = await runner.run(asyncio.Event(), until_seq=until_seq)
        elapsed = time.perf_counter() - start
    finally:
        await client.close()
    return {"applied": stats.applied, "processed_seq": stats.processed_seq, "seconds": elapsed}


def main() -> None:
    nats_url, dsn, generation, until_seq = sys.argv[1:5]
    done = asyncio.run(run(nats_url, dsn, int(generation), int(until_seq)))
    print(json.dumps(done), flush=True)


if __name__ == "__main__":
    main()
