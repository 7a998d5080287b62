"""Both read paths side by side: two apps on the access world's database, ``graphql.compiled_reads``
off and on, each with a client per role."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import httpx
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.access.roles import Role
from clientgraph.metrics import COMPILED_READS, SHORT_PATH, SQL_STATEMENTS, operation_label
from clientgraph.settings import AuthSettings, GraphQLSettings, Settings
from gateway.app import create_app
from gateway.ops.request_metrics import operation_name
from readmodel import api_keys
from tests.access.world import LIMITS, PARTNER_BY_ID, ROLES, World, _client
from tests.conftest import FIRM_NOW


class Floating(float):
    """A JSON number written with a fraction or an exponent: equal only to another such
    (``0.0`` is not ``0`` here, as the texts are not the same)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, float) and float.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = float.__hash__


def ordered(text: str) -> Any:
    """JSON with its objects as lists of pairs: equal only if the keys come in the same order,
    and its numbers only if both are integers or both are not (``Floating``)."""
    return json.loads(text, object_pairs_hook=list, parse_float=Floating)


@dataclass
class Answer:
    status: int
    body: Any  # ordered()
    statements: int
    content_type: str = ""


async def ask(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Answer:
    """The answer, and the statements its operation ran as /metrics counts them (the caller's
    key and ``extensions.freshness`` are read outside the operation)."""
    before = _statements_so_far(query)
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    statements = int(_statements_so_far(query) - before)
    content_type = response.headers.get("content-type", "")
    return Answer(response.status_code, ordered(response.text), statements, content_type)


def short_path_answers(outcome: str = "answered") -> float:
    """How many requests of proven plans the gateway's short path (gateway/short_path.py)
    answered so far, or (``pipeline``) left to the pipeline."""
    return REGISTRY.get_sample_value(f"{SHORT_PATH._name}_total", {"outcome": outcome}) or 0.0


async def ask_twice(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Answer:
    """The compiled app's answer. When the pipeline answered it compiled (which proves its
    plan), it is asked again, twice: the short path answers, with the same status, media type
    and body, to the order of every object's keys, in as many statements (or none: a cache hit
    under the counters' lease, resolvers/planner/lease.py) — the second time
    from what it worked out for the same body and caller (gateway/repeated.py). (An answer of the
    per-field path is not asked again: one with errors may differ from one request to the
    next in which sibling fields still ran — graphql-core cancels them — and so in its
    statements and its list of errors.)"""
    proven_before = compiled_so_far()
    first = await ask(client, query, variables)
    if compiled_so_far() == proven_before:
        return first
    for _ in range(2):  # the short path, then again from the body it has worked out already
        answered_before = short_path_answers()  # (gateway/repeated.py)
        again = await ask(client, query, variables)
        assert short_path_answers() == answered_before + 1, (query, variables)
        # as many statements, or none: a hit under the counters' lease runs none
        assert again.statements in (first.statements, 0), (again.statements, first.statements)
        assert replace(again, statements=first.statements) == first, (
            f"the short path answered otherwise: {_difference(first, again)}\n{query}\n{variables}"
        )
    return again


def _difference(first: Answer, again: Answer) -> str:
    one, two = repr(first), repr(again)
    at = next((i for i, (a, b) in enumerate(zip(one, two, strict=False)) if a != b), 0)
    return f"\n…{one[max(0, at - 300) : at + 300]}\n…{two[max(0, at - 300) : at + 300]}"


def compiled_so_far() -> float:
    found = REGISTRY.get_sample_value(f"{COMPILED_READS._name}_total", {"outcome": "compiled"})
    return found or 0.0


def _statements_so_far(query: str) -> float:
    label = operation_label(operation_name(None, query))
    found = REGISTRY.get_sample_value(f"{SQL_STATEMENTS._name}_sum", {"operation": label})
    return found or 0.0


@dataclass
class TwoPaths:
    per_field: dict[Role, httpx.AsyncClient]
    compiled: dict[Role, httpx.AsyncClient]
    compiled_app: Any = None

    async def both(
        self, role: Role, query: str, variables: dict[str, Any] | None = None
    ) -> tuple[Answer, Answer]:
        per_field = await ask(self.per_field[role], query, variables or {})
        compiled = await ask_twice(self.compiled[role], query, variables or {})
        return per_field, compiled


@asynccontextmanager
async def two_paths(
    world: World, keys: dict[Role, str] | None = None, books: bool = False, **graphql: Any
) -> AsyncIterator[TwoPaths]:
    """Two apps on the world's database, ``compiled_reads`` off and on, a client per role
    (``keys``: these callers' keys instead of the world's; ``books``: account teams held to
    their books, ``auth.book_scoped_account_teams``). The counters' lease is off unless
    ``graphql`` turns it on: a compiled answer is then one statement, a cache hit's its
    counters' read (under the lease a hit runs none: resolvers/planner/lease.py)."""
    graphql.setdefault("response_cache_lease", False)
    if keys is None:
        keys = {role: world.caller(role).key for role in ROLES}
    async with AsyncExitStack() as stack:
        clients: list[dict[Role, httpx.AsyncClient]] = []
        app: Any = None
        for compiled in (False, True):
            settings = Settings(
                database_url=world.url,
                graphql=GraphQLSettings(**{**LIMITS, **graphql}, compiled_reads=compiled),
                auth=AuthSettings(anonymous_role=None, book_scoped_account_teams=books),
            )
            app = create_app(settings, clock=lambda: FIRM_NOW)
            await stack.enter_async_context(app.router.lifespan_context(app))
            clients.append(
                {role: await stack.enter_async_context(_client(app, k)) for role, k in keys.items()}
            )
        yield TwoPaths(*clients, compiled_app=app)


@asynccontextmanager
async def book_paths(world: World) -> AsyncIterator[TwoPaths]:
    """``two_paths`` for an account team held to one owner's book (the row rule ``owner``:
    the accounts whose ``owner_name`` is the caller's), as its ``Role.ACCOUNT_TEAM``; the
    owner is the partner's first account's, so some of the generated ids are in the book."""
    async with world.engine.connect() as conn:
        owner = (
            await conn.execute(
                text("SELECT owner_name FROM account WHERE id = :a"), {"a": PARTNER_BY_ID}
            )
        ).scalar_one()
    key, _ = await api_keys.create(
        world.engine, name="matrix-book", role=Role.ACCOUNT_TEAM.value, now=FIRM_NOW, owner=owner
    )
    async with two_paths(world, {Role.ACCOUNT_TEAM: key}, books=True) as both:
        yield both


@asynccontextmanager
async def admin_paths(
    engine: AsyncEngine, now: datetime, **more: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """An admin client on the per-field path and one on the compiled path, over ``engine``'s
    database, both apps' clock at ``now`` (``more``: other settings of both). No counters'
    lease, as in ``two_paths``: a cache hit is its counters' statement."""
    url = engine.url.render_as_string(hide_password=False)
    key, _ = await api_keys.create(engine, name="two-paths", role=Role.ADMIN.value, now=now)
    async with AsyncExitStack() as stack:
        clients = []
        for compiled in (False, True):
            settings = Settings(
                database_url=url,
                graphql=GraphQLSettings(compiled_reads=compiled, response_cache_lease=False),
                auth=AuthSettings(anonymous_role=None),
                **more,
            )
            app = create_app(settings, clock=lambda: now)
            await stack.enter_async_context(app.router.lifespan_context(app))
            clients.append(await stack.enter_async_context(_client(app, key)))
        yield clients[0], clients[1]
