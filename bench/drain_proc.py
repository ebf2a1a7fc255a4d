"""A drain in its own process for benchmarks: `python -m bench.drain_proc --dsn URL --nats-url URL`.

Prints `leader <unix_ns>` each time it starts leading (so a parent can time a takeover) and runs until
SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time

import nats

from producers.drain.config import DrainConfig
from producers.drain.worker import Drain


async def watch_leadership(drain: Drain) -> None:
    """Print `leader <unix_ns>` whenever the drain becomes leader (checked every millisecond)."""
    leading = False
    while True:
        if drain.stats.is_leader and not leading:
            print(f"leader {time.time_ns()}", flush=True)
        leading = drain.stats.is_leader
        await asyncio.sleep(0.001)


async def run(args: argparse.Namespace) -> None:
    client = await nats.connect(args.nats_url, max_reconnect_attempts=-1)
    config = DrainConfig(batch_size=args.batch_size, standby_poll_s=args.standby_poll_s)
    drain = Drain(args.dsn, client, config, name=args.name)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    watcher = asyncio.create_task(watch_leadership(drain))
    print(f"ready {time.time_ns()}", flush=True)
    try:
        await drain.run(stop)
    finally:
        watcher.cancel()
        await client.close()
    print(f"published {drain.stats.published}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.drain_proc")
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--nats-url", required=True)
    parser.add_argument("--name", default="bench-drain")
    parser.add_argument("--batch-size", type=int, default=DrainConfig.batch_size)
    parser.add_argument("--standby-poll-s", type=float, default=DrainConfig.standby_poll_s)
    args = parser.parse_args()
    try:
        asyncio.run(run(args))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
