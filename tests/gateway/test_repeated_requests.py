"""Requests the short path has answered before (gateway/repeated.py): a body seen before is
answered from what was worked out for it — for the same rule set, on the same day only.

Verified: keying the entries by the body alone gives the second partner the first partner's
rows here; leaving the day out of the key keeps yesterday's ``daysOverdue``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from clientgraph.access.principal import Principal
from clientgraph.access.roles import Role
from clientgraph.settings import AuthSettings, GraphQLSettings, Settings
from gateway.app import create_app
from gateway.repeated import MAX_BODY_BYTES, Repeated
from readmodel.figures.stored import refresh_stale
from tests.access.compiled import short_path_answers
from tests.conftest import FIRM_NOW, http_client
from tests.gateway.test_authentication import _two_clients, new_key
from tests.gateway.test_short_path import post
from tests.readmodel.firm_builder import build
from tests.resolvers.commands.world import gid, url_of

PAGE = """query Repeated($first: Int) {
  accounts(first: $first) { totalCount nodes { name invoices { number daysOverdue } } }
}
"""


@asynccontextmanager
async def gateway(engine: AsyncEngine, clock: list[Any]) -> AsyncIterator[Starlette]:
    """The gateway on ``engine``, its clock ``clock[0]`` (a test moves it), cache off."""
    settings = Settings(
        database_url=url_of(engine),
        auth=AuthSettings(anonymous_role=None),
        graphql=GraphQLSettings(trusted_documents_only_roles=[], response_cache_mb=0),
    )
    app = create_app(settings, clock=lambda: clock[0])
    async with app.router.lifespan_context(app):
        yield app


async def test_a_body_seen_before_is_answered_for_its_own_rules_only(engine: AsyncEngine) -> None:
    ids = await _two_clients(engine)
    admin = await new_key(engine, "admin")
    acme = await new_key(engine, "partner", accounts=[gid("Account", ids["acme"])])
    globex = await new_key(engine, "partner", accounts=[gid("Account", ids["globex"])])
    body = {"query": PAGE, "variables": {"first": 10}}
    async with gateway(engine, [FIRM_NOW]) as app, http_client(app) as client:
        answers: dict[str, list[bytes]] = {}
        for name, key in (("admin", admin), ("acme", acme), ("globex", globex)):
            answers[name] = [(await post(client, key, body)).content for _ in range(3)]
        before = short_path_answers("answered")
        again = (await post(client, acme, body)).content
        kept = len(app.state.repeated_requests)
    assert short_path_answers("answered") == before + 1
    assert kept == 3  # one per rule set (the first request of each proved its plan)
    for name, contents in answers.items():
        assert len(set(contents)) == 1, name  # the same bytes every time
    assert again == answers["acme"][0]
    names = {n: _names(answers[n][0]) for n in answers}
    assert names == {"admin": ["Acme", "Globex"], "acme": ["Acme"], "globex": ["Globex"]}


async def test_the_next_day_is_worked_out_again(engine: AsyncEngine) -> None:
    today = FIRM_NOW.date()

    async def recipe(b: Any, ids: dict[str, Any]) -> None:
        account = await b.account("Acme")
        await b.invoice(
            account, "INV-1", 10_000, 10_000, status="posted",
            issue_date=today - timedelta(days=40), due_date=today - timedelta(days=10),
        )  # fmt: skip
        await refresh_stale(b.conn, today)

    await build(engine, recipe)
    admin = await new_key(engine, "admin")
    clock = [FIRM_NOW]
    body = {"query": PAGE, "variables": {"first": 1}}
    async with gateway(engine, clock) as app, http_client(app) as client:
        days = [_overdue((await post(client, admin, body)).json()) for _ in range(3)]
        clock[0] = FIRM_NOW + timedelta(days=1)
        days.append(_overdue((await post(client, admin, body)).json()))
    assert days == [10, 10, 10, 11]


def test_entries_are_bounded_in_number_and_size() -> None:
    kept: Repeated[int] = Repeated(max_entries=2)
    caller = Principal(id="a", role=Role.ADMIN)
    day = date(2026, 6, 30)
    keys = [kept.key(b"{%d}" % n, caller, day) for n in range(3)]
    for n, key in enumerate(keys):
        kept.put(key, n)
    assert len(kept) == 2 and kept.get(keys[0]) is None and kept.get(keys[2]) == 2
    assert kept.key(b"x" * (MAX_BODY_BYTES + 1), caller, day) is None
    other = Principal(id="b", role=Role.PARTNER, accounts=frozenset({1}))
    assert kept.key(b"{1}", other, day) != keys[1]
    assert kept.key(b"{1}", caller, day + timedelta(days=1)) != keys[1]


def _names(content: bytes) -> list[str]:
    return [n["name"] for n in json.loads(content)["data"]["accounts"]["nodes"]]


def _overdue(answer: dict[str, Any]) -> int:
    days: int = answer["data"]["accounts"]["nodes"][0]["invoices"][0]["daysOverdue"]
    return days
