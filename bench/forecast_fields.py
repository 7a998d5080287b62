"""The root forecast fields on a seeded firm: statements and wall time per field, in process.

    CLIENTGRAPH_DATABASE_URL=postgresql+asyncpg://…/cg_h18 \
        python -m bench.forecast_fields --today 2026-06-30 --runs 3

Each field is asked for with every one of its scalar fields (lists at their default ``first``)
by an admin, on the per-field path (these fields are not compiled), with the gateway's clock at
noon UTC of ``--today``: one request to warm the process (plans, caches of the schema), then
``--runs`` requests timed one after the other, while another caller asks ``{ __typename }``
every 20 ms (``others_max_ms``: its slowest answer, how long the field held the event loop at
most); the statements are those ``/metrics`` counts
for the operation (``clientgraph_graphql_sql_statements``: its resolvers' reads, not the
caller's key or ``extensions.freshness``). docs/formulas.md ("Forecasts on a large firm")
holds the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from datetime import UTC, date, datetime
from datetime import time as clock_time
from typing import Any

import httpx
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, get_named_type
from prometheus_client import REGISTRY

from clientgraph.metrics import SQL_STATEMENTS, operation_label
from clientgraph.settings import AuthSettings, Settings
from gateway.app import create_app
from gateway.ops.request_metrics import operation_name
from readmodel.db import count_statements
from schema.build import build_schema

FIELDS = {
    "forecast (12 months)": (
        "forecast",
        '(periodStart: "{start}", periodEnd: "{end}")',
    ),
    "billingDelays": ("billingDelays", ""),
    "timeAnomalies (90 days)": ("timeAnomalies", ""),
    "portfolio.forecastAccuracy": ("portfolio", ""),
}


def selection(owner: GraphQLObjectType, depth: int) -> str:
    """Every field of ``owner`` without a required argument, objects to ``depth`` levels."""
    parts = []
    for name, field in owner.fields.items():
        if any(isinstance(a.type, GraphQLNonNull) and a.default_value is None for a in
               field.args.values()):  # fmt: skip
            continue
        named = get_named_type(field.type)
        if isinstance(named, GraphQLObjectType):
            if depth > 0:
                parts.append(f"{name} {{ {selection(named, depth - 1)} }}")
        else:
            parts.append(name)
    return " ".join(parts) or "__typename"


def _unwrap(t: Any) -> Any:
    while isinstance(t, GraphQLNonNull | GraphQLList):
        t = t.of_type
    return t


def documents(schema: Any, today: date) -> dict[str, str]:
    query = schema.query_type
    start = today.replace(day=1)
    end = date(start.year + (start.month + 10) // 12, (start.month + 10) % 12 + 1, 1)
    out = {}
    for label, (name, arguments) in FIELDS.items():
        named = _unwrap(query.fields[name].type)
        inner = (
            f"forecastAccuracy {{ {selection(_unwrap(named.fields['forecastAccuracy'].type), 2)} }}"
            if name == "portfolio"
            else selection(named, 2)
        )
        args = arguments.format(start=start.isoformat(), end=end.isoformat())
        operation = "M" + "".join(ch for ch in label if ch.isalnum())
        out[label] = f"query {operation} {{ {name}{args} {{ {inner} }} }}"
    return out


async def measure(url: str, today: date, runs: int, show: bool = False) -> list[dict[str, Any]]:
    noon = datetime.combine(today, clock_time(12), UTC)
    settings = Settings(database_url=url, auth=AuthSettings(anonymous_role="admin"))
    app = create_app(settings, clock=lambda: noon)
    results = []
    async with app.router.lifespan_context(app):
        schema = build_schema()._schema
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", timeout=600
        ) as client:
            for label, document in documents(schema, today).items():
                body = json.dumps({"query": document})
                headers = {"content-type": "application/json"}
                statements = count_statements(app.state.engine)
                before = _operation_statements(document)
                answer = (await client.post("/graphql", content=body, headers=headers)).json()
                codes = _codes(answer)
                count = int(_operation_statements(document) - before)  # the operation's own
                if show:  # every statement of the engine meanwhile (the embedded worker's too)
                    for sql in statements:
                        print(f"  {label}: {' '.join(sql.split())[:150]}")
                times: list[float] = []
                probes: list[float] = []
                probing = asyncio.create_task(_probe(client, probes))
                for _ in range(runs):
                    started = time.perf_counter()
                    timed = await client.post("/graphql", content=body, headers=headers)
                    times.append(time.perf_counter() - started)
                    codes += _codes(timed.json())
                probing.cancel()
                size = len(json.dumps(answer))
                results.append(
                    {
                        "field": label,
                        "statements": count,
                        "median_s": round(statistics.median(times), 3) if times else None,
                        "max_s": round(max(times), 3) if times else None,
                        "answer_bytes": size,
                        "others_max_ms": round(max(probes) * 1000) if probes else None,
                        "errors": codes,  # error codes of the warm-up and timed requests
                    }
                )
    return results


async def _probe(client: httpx.AsyncClient, seen: list[float]) -> None:
    """Another caller meanwhile: ``{ __typename }`` every 20 ms, each answer's time kept (the
    same process and event loop: a field holding the loop shows as a slow answer here)."""
    body = {"query": "{ __typename }"}
    while True:
        started = time.perf_counter()
        await client.post("/graphql", json=body)
        seen.append(time.perf_counter() - started)
        await asyncio.sleep(0.02)


def _codes(answer: dict[str, Any]) -> list[str]:
    return [str(e.get("extensions", {}).get("code")) for e in answer.get("errors", [])]


def _operation_statements(document: str) -> float:
    """Statements counted so far under the document's operation (``/metrics``' histogram)."""
    label = operation_label(operation_name(None, document))
    found = REGISTRY.get_sample_value(f"{SQL_STATEMENTS._name}_sum", {"operation": label})
    return found or 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--today", type=date.fromisoformat, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--show", action="store_true", help="print each field's statements")
    args = parser.parse_args()
    url = os.environ["CLIENTGRAPH_DATABASE_URL"]
    for row in asyncio.run(measure(url, args.today, args.runs, args.show)):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
