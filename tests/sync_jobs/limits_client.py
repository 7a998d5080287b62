"""One process of the shared-limits test: a client of its own that sends SuiteQL queries.

Run as ``python -m tests.sync_jobs.limits_client REQUESTS``: settings come from the
environment as in a worker (``CLIENTGRAPH_NETSUITE__*``, ``CLIENTGRAPH_REDIS_URL``,
``CLIENTGRAPH_SYNC__SHARED_LIMITS``). Once logged in it prints ``ready`` and waits for a line
on stdin, so the test starts every process together however slowly each one started (a
wall-clock start missed processes still importing on a loaded machine); then it sends
``REQUESTS`` queries at once through the same ``open_http`` the worker uses and prints how
many succeeded.
"""

from __future__ import annotations

import asyncio
import sys

from clientgraph.settings import Settings
from sync_jobs.connectors.netsuite.client import NetSuiteClient
from sync_jobs.connectors.netsuite.m2m import M2MLogin
from sync_jobs.connectors.registry import open_http, open_shared_limits


async def main(requests: int) -> int:
    settings = Settings()
    shared = open_shared_limits(settings)
    ns = settings.netsuite
    try:
        async with open_http("netsuite", settings, shared=shared) as http:
            client = NetSuiteClient(ns.base_url or "", M2MLogin.from_settings(ns), http)
            await client.suiteql("SELECT id FROM customer", limit=1)  # log in before the start
            print("ready", flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
            query = "SELECT id FROM customer"
            pages = await asyncio.gather(*(client.suiteql(query, limit=5) for _ in range(requests)))
    finally:
        if shared is not None:
            await shared.aclose()
    return len(pages)


if __name__ == "__main__":
    print(asyncio.run(main(int(sys.argv[1]))))
