"""What masking costs the compiled statement: `python -m bench.masked [--url URL]`.

The bench's workload 1 (``unified_client_view.graphql``: it asks ``budgetBurn``,
``percentComplete`` — masked for a partner — and ``unbilledWip`` — masked for delivery, account
teams and partners) on the busiest account, compiled three times with the same rows (no row
rules) and run ``--runs`` times each, alternating: as the admin sees it (no masked field), as
delivery (one masked, the ``masked`` column computed from the data) and as a partner (three).
Only the statement is timed (not HTTP, not the gateway). Default ``--url``: the bench's S
database; a ``sqlite+aiosqlite:///…`` file that does not exist yet is migrated and seeded
(``--accounts``). Prints one JSON line: the median milliseconds per role.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from datetime import date
from typing import Any

from graphql import get_operation_ast, parse
from graphql.execution.values import get_variable_values
from sqlalchemy import text

from bench import workloads
from clientgraph.access.policy import FIELD_ROLES
from clientgraph.access.roles import Role
from clientgraph.settings import GraphQLSettings
from readmodel import migrate
from readmodel.db import create_engine
from readmodel.figures.stored import refresh_dated
from readmodel.reads.scope import RowScope
from readmodel.seed import SeedConfig, seed_firm
from resolvers.ids import to_global_id
from resolvers.planner.binding import Binding
from resolvers.planner.compile import compile_operation
from resolvers.planner.dialect import Dialect
from schema.build import build_schema

QUERY = (workloads.QUERIES / "unified_client_view.graphql").read_text()
ROLES = (Role.ADMIN, Role.DELIVERY, Role.PARTNER)


async def measure(url: str, runs: int, accounts: int) -> dict[str, Any]:
    if url.startswith("sqlite") and not os.path.exists(url.split("///", 1)[1]):
        await _seed(url, accounts)
    engine = create_engine(url)
    schema = build_schema()._schema
    document = parse(QUERY)
    operation = get_operation_ast(document)
    assert operation is not None
    dialect = Dialect(engine.dialect.name, engine.dialect)
    try:
        async with engine.connect() as conn:
            account = (
                await conn.execute(
                    text(
                        "SELECT account_id FROM project GROUP BY account_id "
                        "ORDER BY COUNT(*) DESC, account_id LIMIT 1"
                    )
                )
            ).scalar_one()
            today = (await conn.execute(text("SELECT max(as_of) FROM account_figures"))).scalar()
            today = today if isinstance(today, date) else date.fromisoformat(str(today))
            statements, masked = {}, {}
            variables = {"id": to_global_id("Account", account)}
            coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
            assert not isinstance(coerced, list)
            for role in ROLES:
                plan = compile_operation(
                    schema,
                    operation,
                    {},
                    dialect,
                    RowScope(),
                    lambda _: True,
                    lambda guarded, r=role: r in FIELD_ROLES[guarded],
                )
                params: dict[str, Any] = {}
                binding = Binding(coerced, GraphQLSettings(), today)
                for bind in plan.binders:
                    bind(binding, params)
                statements[role] = (text(plan.sql), params)
                masked[role] = [p for p, _ in plan.masked]
            times: dict[Role, list[float]] = {r: [] for r in ROLES}
            for _ in range(3):  # warm: plans prepared, pages cached
                for role in ROLES:
                    await conn.execute(*statements[role])
            for _ in range(runs):
                for role in ROLES:
                    start = time.perf_counter()
                    row = (await conn.execute(*statements[role])).one()
                    times[role].append(time.perf_counter() - start)
                    assert not row.fallback
    finally:
        await engine.dispose()
    return {
        "backend": dialect.name,
        "account": account,
        "runs": runs,
        "median_ms": {r.value: round(statistics.median(times[r]) * 1000, 3) for r in ROLES},
        "masked": {r.value: masked[r] for r in ROLES},
    }


async def _seed(url: str, accounts: int) -> None:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        today = date(2026, 6, 1)
        await seed_firm(engine, SeedConfig(accounts=accounts, seed=7, today=today), progress=False)
        await refresh_dated(engine, today)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument(
        "--url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/clientgraph_bench_s"
    )
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--accounts", type=int, default=40, help="when seeding a new SQLite file")
    args = p.parse_args(argv)
    print(json.dumps(asyncio.run(measure(args.url, args.runs, args.accounts))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
