"""``python -m tests.sync_jobs.commands.worker_process <queue>``: the real command worker, as
``clientgraph worker`` builds it (settings from ``CLIENTGRAPH_*``, ``ResilientWorker``), on a
queue of the test's own and without crons, so a test can SIGKILL it mid-job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

from clientgraph.settings import Settings
from sync_jobs.worker import ResilientWorker, command_worker_settings


async def main(queue: str) -> None:
    options = command_worker_settings(Settings(), queue_name=queue)
    worker = ResilientWorker(**options, poll_delay=0.05)
    try:
        await worker.async_run()
    finally:
        await worker.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(asyncio.CancelledError):  # arq's way of stopping on SIGTERM
        asyncio.run(main(sys.argv[1]))
