"""The compiled read path on and off, side by side: `python -m bench.compiled`.

Two gateways on the bench's database (`make bench` seeds it; ``--database`` names another, so
engineers sharing a server do not share it), one with
``CLIENTGRAPH_GRAPHQL__COMPILED_READS=true``, one with ``false``; wrk alternates between them
for each workload x concurrency. Before the load the stored figures are refreshed as of today
(what the daily job does: the seed stores health as of the bench's date, the gateways' today is
the real one). Workloads: the bench's three (the unified view and the portfolio list with
their figures and health, compiled from the stored values), plus ``unified_rows`` — workload 1
without its figures and health. Prints one JSON line per run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from contextlib import ExitStack

from bench import database, load, measure, servers, workloads
from bench.workloads import CLIENTGRAPH
from clientgraph.settings import Settings
from clientgraph.tasks import refresh_figures
from resolvers.ids import to_global_id

ROWS = workloads.QUERIES / "unified_client_view_rows.graphql"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--scale", default="S")
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 16])
    p.add_argument("--server", default="postgres@127.0.0.1:5432")
    p.add_argument("--port", type=int, default=8821, help="compiled on; off is port + 1")
    p.add_argument("--database", default=None, help="default: clientgraph_bench_<scale>")
    args = p.parse_args(argv)
    url, _ = database.run(args.server, args.scale, reseed=False, name=args.database)
    asyncio.run(refresh_figures(Settings(database_url=url), today=None, progress=False))
    account_id = measure.busiest_account(url)
    with ExitStack() as stack:
        gateways = {}
        for on, port in (("true", args.port), ("false", args.port + 1)):
            os.environ["CLIENTGRAPH_GRAPHQL__COMPILED_READS"] = on
            gateways[on] = stack.enter_context(servers.gateway(url, port))
        requests = {
            on: workloads.build(CLIENTGRAPH, g.url, account_id, 10, g.pid)
            for on, g in gateways.items()
        }
        rows = workloads.body(ROWS.read_text(), {"id": to_global_id("Account", account_id)})
        for on, g in gateways.items():
            requests[on]["unified_rows"] = workloads.Request(g.url, rows, g.pid)
        for name in requests["true"]:
            for connections in args.concurrency:
                for on in ("true", "false"):
                    request = requests[on][name]
                    run = load.wrk(
                        request.url,
                        request.body,
                        connections=connections,
                        seconds=args.seconds,
                        pid=request.pid,
                    )
                    line = {"workload": name, "compiled": on == "true", "c": connections, **run}
                    print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
