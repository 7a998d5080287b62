"""The ceiling: how fast plain Starlette on uvicorn answers workload 1, without GraphQL.

Two routes, both reading (and JSON-decoding) the POSTed body like a GraphQL endpoint would:

- ``POST /bytes`` returns clientgraph's own response to the unified client view, fetched once
  by bench/run.py and held in memory: HTTP + ASGI + uvicorn, nothing else.
- ``POST /sql`` runs ONE statement that builds the account's nested JSON in PostgreSQL
  (``json_agg`` / ``json_build_object``) and returns its text unchanged. The shape is the
  unified client view's stored rows and columns — the same selection as the peer's query in
  bench/queries/postgraphile/unified_client_view.graphql — without the computed figures
  (backlog, budget burn, percent complete, unbilled WIP, days overdue, health).

Served by ``python -m uvicorn bench.ceiling:app`` with its settings in environment variables
(``BENCH_CEILING_DATABASE_URL``, ``BENCH_CEILING_ACCOUNT_ID``, ``BENCH_CEILING_RESPONSE``).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

LIVE = "deleted_at IS NULL"
MONEY = "to_char({0} / 100.0, 'FM999999999990.00')"

UNIFIED_VIEW_SQL = f"""
SELECT json_build_object('data', json_build_object('account', json_build_object(
  'id', a.id, 'name', a.name, 'currency', a.currency,
  'engagements', COALESCE((
    SELECT json_agg(json_build_object(
      'name', e.name, 'status', e.status,
      'soldValue', json_build_object('amount', {MONEY.format("e.sold_value_minor")},
                                     'currency', e.currency),
      'projects', COALESCE((
        SELECT json_agg(json_build_object(
          'code', p.code, 'name', p.name, 'status', p.status,
          'milestones', COALESCE((
            SELECT json_agg(json_build_object('name', m.name, 'dueDate', m.due_date,
                                              'status', m.status) ORDER BY m.due_date, m.id)
            FROM milestone m WHERE m.project_id = p.id AND m.{LIVE}), '[]'),
          'invoices', COALESCE((
            SELECT json_agg(json_build_object(
              'number', i.number, 'status', i.status,
              'total', json_build_object('amount', {MONEY.format("i.total_minor")}),
              'balance', json_build_object('amount', {MONEY.format("i.balance_minor")}))
              ORDER BY i.issue_date, i.id)
            FROM invoice i WHERE i.project_id = p.id AND i.{LIVE}), '[]')
        ) ORDER BY p.code, p.id)
        FROM project p WHERE p.engagement_id = e.id AND p.{LIVE}), '[]')
    ) ORDER BY e.start_date, e.id)
    FROM engagement e WHERE e.account_id = a.id AND e.{LIVE}), '[]'),
  'invoices', COALESCE((
    SELECT json_agg(json_build_object(
      'number', i.number, 'status', i.status, 'dueDate', i.due_date,
      'total', json_build_object('amount', {MONEY.format("i.total_minor")}),
      'balance', json_build_object('amount', {MONEY.format("i.balance_minor")}))
      ORDER BY i.issue_date, i.id)
    FROM invoice i WHERE i.account_id = a.id AND i.{LIVE}), '[]')
)))::text
FROM account a WHERE a.id = $1 AND a.{LIVE}
"""


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.account_id = int(os.environ["BENCH_CEILING_ACCOUNT_ID"])
    app.state.response = os.environ["BENCH_CEILING_RESPONSE"].encode()
    app.state.pool = await asyncpg.create_pool(
        os.environ["BENCH_CEILING_DATABASE_URL"], min_size=2, max_size=20
    )
    try:
        yield
    finally:
        await app.state.pool.close()


async def canned(request: Request) -> Response:
    json.loads(await request.body())
    return Response(request.app.state.response, media_type="application/json")


async def one_statement(request: Request) -> Response:
    json.loads(await request.body())
    async with request.app.state.pool.acquire() as conn:
        text = await conn.fetchval(UNIFIED_VIEW_SQL, request.app.state.account_id)
    return Response(text, media_type="application/json")


async def readyz(request: Request) -> Response:
    return PlainTextResponse("ok")


app = Starlette(
    routes=[
        Route("/bytes", canned, methods=["POST"]),
        Route("/sql", one_statement, methods=["POST"]),
        Route("/readyz", readyz),
    ],
    lifespan=lifespan,
)
