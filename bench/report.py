"""Render docs/benchmarks.md from the newest result file of each scale."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
DOC = Path(__file__).parent.parent / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Produced by `make bench` (`python -m bench.run`): a PostgreSQL read model seeded by
`clientgraph seed`, one gateway process (`clientgraph serve`), load from `wrk` on the same
machine, no response cache. Raw results: `bench/results/*.json`. Regenerate this page with
`python -m bench.report`.

Workloads: **unified_client_view** — the account with the most projects, with engagements,
projects, milestones, invoices and health (`bench/queries/unified_client_view.graphql`);
**portfolio_list** — `accounts(first: 50)` with health and open invoices;
**overdue_invoices** — `invoices(first: 100, filter: {overdue: true})` with account and project.

wrk counts a request not answered within 2 s as a timeout error (the errors column);
latency percentiles cover answered requests only, so a row with many errors reads 0 ms.

First reading (this baseline): the general path — strawberry resolving per field through
DataLoaders, with health and figures computed per request — serves tens of requests per
second, far below the peer (`../shared/STACK.md`: PostGraphile ~2,600 req/s on a similar
query). Adding connections does not add throughput: one Python process is CPU-bound. Issue 6
is where this gets profiled and the compiled read path built.

Not yet here (issue 6): PostGraphile side by side, the plain-Starlette ceiling, L scale,
mutation and sync workloads.
"""


def render(_latest: Path | None = None) -> None:
    sections = [HEADER]
    for scale in ("S", "L"):
        files = sorted(RESULTS.glob(f"{scale}-*.json"))
        if files:
            sections.append(_section(json.loads(files[-1].read_text()), files[-1].name))
    DOC.write_text("\n".join(sections))


def _section(r: dict, name: str) -> str:
    m = r["machine"]
    lines = [
        f"## Scale {r['scale']}: {r['accounts']:,} accounts ({r['measured_at']})",
        "",
        f"Machine: {m['cpus']} cores, {m['cpu']}, Python {m['python']}. "
        f"Command: `{r['command']}`. Raw: `bench/results/{name}`. "
        f"Gateway peak memory: {r['gateway_peak_memory_mb']} MB."
        + (f" Seeding took {r['seed_seconds']:.1f} s." if r.get("seed_seconds") else ""),
        "",
        "| workload | concurrency | req/s | p50 ms | p95 ms | p99 ms | errors "
        "| SQL statements/request |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in r["runs"]:
        lines.append(
            f"| {run['workload']} | {run['concurrency']} | {run['rps']} | {run['p50_ms']:.1f} "
            f"| {run['p95_ms']:.1f} | {run['p99_ms']:.1f} | {run['errors'] + run['non_2xx']} "
            f"| {run['statements_per_request']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    render()
