"""The platform's projection runners (what `gordon up` runs) in their own process, for the chaos suite:
`python -m tests.chaos.projector_proc` with GORDON_NATS_URL and GORDON_DATABASE_URL (the owner) set.
Stops on SIGTERM; exits non-zero when a runner fails (a supervisor restarts it, as systemd would)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from gordon.platform import projections
from gordon.runtime.servers import Endpoints
from settings.environment import Settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = Settings.from_env()
    if not settings.nats_url or not settings.database_url:
        raise SystemExit("GORDON_NATS_URL and GORDON_DATABASE_URL must be set")
    endpoints = Endpoints(nats_url=settings.nats_url, database_url=settings.database_url)

    async def run() -> None:
        task = asyncio.ensure_future(projections(endpoints))
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run())


if __name__ == "__main__":
    main()
