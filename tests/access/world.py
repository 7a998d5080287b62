"""The access matrix's own firm: seeded, shaped so the rules have something to hold apart,
with an API key per role and commands of several principals made over HTTP.

Shape (asserted when it is built, so a change of the seeder cannot hollow the matrix out):
the partner names account 4 (by global id; its parent 2 is not named) and account 5 (by its
Salesforce id; its child 6 is not named); people are staffed across clients; every project
keeps a few time entries (the seed's hundreds would only slow the matrix down); two handoffs
(one on a named account, one not) whose steps point at a command of clientgraph itself.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from clientgraph.access.roles import Role
from clientgraph.settings import AuthSettings, GraphQLSettings, Settings
from clientgraph.settings_streams import SubscriptionSettings
from gateway.app import create_app
from readmodel import api_keys
from readmodel.figures.stored import refresh_dated
from readmodel.forecasts.rules import Rules
from readmodel.seed import SeedConfig, seed_firm
from readmodel.seed.history import seed_snapshots
from resolvers.ids import to_global_id
from sync_jobs.handoff.templates import weeks_of
from tests.conftest import FIRM_NOW, FIRM_TODAY

ACCOUNTS, SEED = 14, 47  # 47: 4 is a child of 2; 4 and 5 keep milestones, change orders
PARTNER_BY_ID, PARTNER_BY_REF = 4, 5  # account keys the partner's key names
HIDDEN_PARENT, HIDDEN_CHILD = 2, 6
OTHER = 3  # another client, with projects
TIME_ENTRIES_PER_PROJECT = 3
PROJECTS_PER_ACCOUNT = 1
LIMITS = {
    "max_tokens": 400_000,
    "max_depth": 40,
    "max_aliases": 1_000,
    "max_page_size": 100,
    # the generated documents select everything at once: far over any budget of cost
    "max_cost": 10**15,
    "role_max_cost": {},
    "request_timeout_seconds": 120,  # a loaded CI machine answers slowly, not wrongly
    # what a role may read, whatever the document: which documents a partner may send at all
    # (registered ones only, by default) is tests/gateway/test_documents.py's
    "trusted_documents_only_roles": [],
}
ROLES = tuple(Role)


@asynccontextmanager
async def matrix_app(
    url: str, subscriptions: SubscriptionSettings | None = None, **auth: Any
) -> AsyncIterator[Starlette]:
    """The gateway with credentials required (no anonymous role) and room for big documents."""
    settings = Settings(
        database_url=url,
        graphql=GraphQLSettings(**LIMITS),
        auth=AuthSettings(anonymous_role=None, **auth),
        subscriptions=subscriptions or SubscriptionSettings(),
    )
    app = create_app(settings, clock=lambda: FIRM_NOW)
    async with app.router.lifespan_context(app):
        yield app


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass
class Caller:
    role: Role
    key: str
    principal_id: str
    client: httpx.AsyncClient

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@dataclass
class World:
    backend: str
    url: str
    engine: AsyncEngine
    app: Starlette
    callers: dict[Role, Caller] = field(default_factory=dict)
    partner_accounts: frozenset[int] = frozenset()

    answers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def caller(self, role: Role) -> Caller:
        return self.callers[role]

    async def admin_answer(self, document: str) -> dict[str, Any]:
        """The ADMIN answer to a read-only document, asked once per world."""
        if document not in self.answers:
            self.answers[document] = await self.caller(Role.ADMIN).post(document)
        return self.answers[document]


async def _sql(engine: AsyncEngine, statement: str, **params: Any) -> list[Any]:
    async with engine.begin() as conn:
        result = await conn.execute(text(statement), params)
        return list(result) if result.returns_rows else []


async def shape_firm(engine: AsyncEngine) -> None:
    """Seed the firm and give it the shapes the rules must hold apart."""
    await seed_firm(
        engine, SeedConfig(accounts=ACCOUNTS, seed=SEED, today=FIRM_TODAY), progress=False
    )
    await seed_snapshots(engine, FIRM_TODAY, 6, Rules(weeks_of), progress=False)  # accuracy
    parents = dict(await _sql(engine, "SELECT id, parent_id FROM account"))
    assert parents[PARTNER_BY_ID] == HIDDEN_PARENT, "the seed no longer makes 4 a child of 2"
    await _sql(
        engine, "UPDATE account SET parent_id = :p WHERE id = :c", p=PARTNER_BY_REF, c=HIDDEN_CHILD
    )
    await _trim_projects(engine)
    await _sql(
        engine,
        "DELETE FROM time_entry WHERE id NOT IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER "
        "(PARTITION BY project_id ORDER BY id) AS n FROM time_entry) t WHERE n <= :n)",
        n=TIME_ENTRIES_PER_PROJECT,
    )
    await _trim_invoices(engine)
    await _handoffs(engine)
    await _exceptions(engine)
    await refresh_dated(engine, FIRM_TODAY)  # the SQL above left the figures it changed stale


async def _trim_projects(engine: AsyncEngine) -> None:
    """One project per client, two for the partner's (paid for and with milestones where
    there are), with what hangs under them: answers stay small."""
    gone = (
        "SELECT id FROM (SELECT j.id, j.account_id, ROW_NUMBER() OVER (PARTITION BY "
        "j.account_id ORDER BY CASE WHEN EXISTS (SELECT 1 FROM invoice i JOIN payment p ON "
        "p.invoice_id = i.id WHERE i.project_id = j.id) THEN 0 ELSE 1 END + CASE WHEN EXISTS "
        "(SELECT 1 FROM milestone m WHERE m.project_id = j.id) THEN 0 ELSE 1 END, j.id) AS n "
        f"FROM project j) t WHERE n > {PROJECTS_PER_ACCOUNT} + CASE WHEN account_id IN "
        f"({PARTNER_BY_ID}, {PARTNER_BY_REF}) THEN 1 ELSE 0 END"
    )
    invoices = f"SELECT id FROM invoice WHERE project_id IN ({gone})"
    await _sql(engine, f"UPDATE time_entry SET invoice_id = NULL WHERE invoice_id IN ({invoices})")
    await _sql(engine, f"DELETE FROM payment WHERE invoice_id IN ({invoices})")
    for table in ("time_entry", "assignment", "milestone", "change_order", "invoice"):
        await _sql(engine, f"DELETE FROM {table} WHERE project_id IN ({gone})")
    await _sql(engine, f"DELETE FROM project WHERE id IN ({gone})")


async def _trim_invoices(engine: AsyncEngine) -> None:
    """One invoice per project (one with a payment where there is one): the firm's invoices
    must fit one page of 100."""
    keep = (
        "SELECT id FROM (SELECT i.id, ROW_NUMBER() OVER (PARTITION BY i.account_id, i.project_id "
        "ORDER BY CASE WHEN EXISTS (SELECT 1 FROM payment p WHERE p.invoice_id = i.id) "
        "THEN 0 ELSE 1 END, i.id) AS n FROM invoice i) t WHERE n <= 1"
    )
    await _sql(engine, f"UPDATE time_entry SET invoice_id = NULL WHERE invoice_id NOT IN ({keep})")
    await _sql(engine, f"DELETE FROM payment WHERE invoice_id NOT IN ({keep})")
    await _sql(engine, f"DELETE FROM invoice WHERE id NOT IN ({keep})")


async def _handoffs(engine: AsyncEngine) -> None:
    """A command clientgraph made itself, and a handoff on a named and on another account."""
    await _sql(
        engine,
        "INSERT INTO command (kind, status, target_system, target_object, idempotency_key, "
        "principal_id, input_hash, payload, correlation_id, attempts, max_attempts, "
        "created_at, updated_at) VALUES ('create_project', 'FAILED', 'netsuite', 'project', "
        "'handoff-step', 'system', 'h', '{}', 'corr-system', 1, 8, :now, :now)",
        now=FIRM_NOW,
    )
    command = (await _sql(engine, "SELECT max(id) FROM command"))[0][0]
    for account, status in ((PARTNER_BY_REF, "FAILED"), (OTHER, "WAITING_FOR_DATA")):
        deal = (
            await _sql(engine, "SELECT min(id) FROM opportunity WHERE account_id = :a", a=account)
        )[0][0]
        missing = json.dumps([{"field": "startDate", "message": "no start", "owner": "sales"}])
        await _sql(
            engine,
            "INSERT INTO handoff (opportunity_id, status, trigger, readiness_score, missing, "
            "inputs, manual_intervention, error_code, error_message, won_at, created_at, "
            "updated_at) VALUES (:d, :s, 'sync', 50, :m, '{}', true, 'E1', 'boom', :now, :now, "
            ":now)",
            d=deal,
            s=status,
            m=missing,
            now=FIRM_NOW,
        )
        handoff = (await _sql(engine, "SELECT max(id) FROM handoff"))[0][0]
        await _sql(
            engine,
            "INSERT INTO handoff_step (handoff_id, position, name, status, attempt, command_id, "
            "started_at, error_code, error_message) VALUES (:h, 1, 'create_project', 'FAILED', "
            "1, :c, :now, 'E1', 'boom')",
            h=handoff,
            c=command,
            now=FIRM_NOW,
        )


async def _exceptions(engine: AsyncEngine) -> None:
    """Two integration exceptions (operators' only: not tied to any client's rows)."""
    for source_id in ("CUST-9001", "CUST-9002"):
        await _sql(
            engine,
            "INSERT INTO integration_exception (kind, source_system, object_type, source_id, "
            "message, details, status, first_seen_at, last_seen_at) VALUES ('orphaned', "
            "'netsuite', 'customer', :s, 'no parent', NULL, 'open', :now, :now)",
            s=source_id,
            now=FIRM_NOW,
        )


async def make_keys(engine: AsyncEngine) -> dict[Role, tuple[str, str]]:
    """A key per role: (the key, its principal id); the partner's names two accounts."""
    ref = (await _sql(engine, "SELECT source_id FROM account WHERE id = :a", a=PARTNER_BY_REF))[0][
        0
    ]
    accounts = [to_global_id("Account", PARTNER_BY_ID), f"salesforce:{ref}"]
    keys: dict[Role, tuple[str, str]] = {}
    for role in ROLES:
        named = accounts if role is Role.PARTNER else None
        key, stored = await api_keys.create(
            engine, name=f"matrix-{role}", role=role.value, now=FIRM_NOW, accounts=named
        )
        keys[role] = (key, f"key:{stored.key_id}")
    return keys


RESULT = "__typename ... on Command { id } ... on CommandRejected { code message }"
LOG_TIME = f"mutation($input: LogTimeInput!) {{ logTime(input: $input) {{ {RESULT} }} }}"
UPDATE_DEAL = (
    "mutation($input: UpdateOpportunityInput!) "
    f"{{ updateOpportunity(input: $input) {{ {RESULT} }} }}"
)


async def staffed(engine: AsyncEngine, account: int) -> tuple[str, str]:
    """A project of ``account`` and a person staffed on it, as global ids."""
    project, person = (
        await _sql(
            engine,
            "SELECT p.id, a.person_id FROM project p JOIN assignment a ON a.project_id = p.id "
            "WHERE p.account_id = :a AND a.person_id IS NOT NULL ORDER BY p.id, a.id LIMIT 1",
            a=account,
        )
    )[0]
    return to_global_id("Project", project), to_global_id("Person", person)


def log_time_input(project: str, person: str, key: str) -> dict[str, Any]:
    return {
        "projectId": project,
        "personId": person,
        "workDate": (FIRM_TODAY.replace(day=29)).isoformat(),
        "hours": "2",
        "idempotencyKey": key,
    }


async def make_commands(world: World) -> None:
    """Commands of three principals, made by real mutations: delivery, account team, partner."""
    delivery, team = world.caller(Role.DELIVERY), world.caller(Role.ACCOUNT_TEAM)
    for n, account in enumerate((PARTNER_BY_ID, OTHER)):
        project, person = await staffed(world.engine, account)
        body = await delivery.post(LOG_TIME, {"input": log_time_input(project, person, f"d{n}")})
        assert body["data"]["logTime"]["__typename"] == "Command", body
    deal = (
        await _sql(
            world.engine,
            "SELECT min(id) FROM opportunity WHERE account_id = :a AND is_closed = false",
            a=PARTNER_BY_REF,
        )
    )[0][0]
    data = {
        "opportunityId": to_global_id("Opportunity", deal),
        "idempotencyKey": "t1",
        "probability": 35,
    }
    body = await team.post(UPDATE_DEAL, {"input": data})
    assert body["data"]["updateOpportunity"]["__typename"] == "Command", body
    project, person = await staffed(world.engine, PARTNER_BY_REF)
    variables = {"input": log_time_input(project, person, "p0")}
    async with partner_client(world, ["logTime"]) as client:
        response = await client.post("/graphql", json={"query": LOG_TIME, "variables": variables})
    assert response.json()["data"]["logTime"]["__typename"] == "Command", response.text


@asynccontextmanager
async def partner_client(world: World, opened: list[str]) -> AsyncIterator[httpx.AsyncClient]:
    """The partner's client on an app that opens ``opened`` mutations to partners."""
    key = world.caller(Role.PARTNER).key
    async with matrix_app(world.url, partner_mutations=opened) as app, _client(app, key) as client:
        yield client


@asynccontextmanager
async def _client(app: Starlette, key: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=bearer(key), timeout=60
    ) as client:
        yield client


@asynccontextmanager
async def built_world(backend: str, url: str, engine: AsyncEngine) -> AsyncIterator[World]:
    """The shaped firm behind one running app, with a client per role."""
    await shape_firm(engine)
    keys = await make_keys(engine)
    async with AsyncExitStack() as stack:
        app = await stack.enter_async_context(matrix_app(url))
        world = World(
            backend, url, engine, app, partner_accounts=frozenset({PARTNER_BY_ID, PARTNER_BY_REF})
        )
        for role, (key, principal) in keys.items():
            client = await stack.enter_async_context(_client(app, key))
            world.callers[role] = Caller(role, key, principal, client)
        await make_commands(world)
        yield world
