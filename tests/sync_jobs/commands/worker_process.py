"""``python -m tests.sync_jobs.commands.worker_process <queue>``: the real arq worker, as
``clientgraph worker`` builds it (settings from ``CLIENTGRAPH_*``), on a queue of the test's
own and without crons, so a test can SIGKILL it mid-job.

One change for speed: arq leases a running job for the longest job timeout + 10 s (1,810 s
with the reconciliation registered) and runs it again only after the lease of a dead worker
lapses. Here the lease is ``LEASE_SECONDS``, longer than the test's slowest job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

from arq import Worker

from clientgraph.settings import Settings
from sync_jobs.worker import worker_settings

LEASE_SECONDS = 3.0


async def main(queue: str) -> None:
    options = worker_settings(Settings(), queue_name=queue, crons=False)
    worker = Worker(**options, poll_delay=0.05)
    worker.in_progress_timeout_s = LEASE_SECONDS
    try:
        await worker.async_run()
    finally:
        await worker.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(asyncio.CancelledError):  # arq's way of stopping on SIGTERM
        asyncio.run(main(sys.argv[1]))
