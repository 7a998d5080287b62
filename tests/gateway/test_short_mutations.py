"""A mutation document the whole pipeline has validated runs again on strawberry's executor
alone (gateway/short_path.py, gateway/short_mutation.py): the same bytes, status and headers
as the pipeline's answer to the same request — accepted, replayed, rejected, refused, with a
variable that does not coerce — the same commands and audit entries, the same limits.

Two apps on one database side by side: ``graphql.short_mutations`` off (every request the
pipeline's) and on. The access matrix runs every mutation × role on both paths
(tests/access/test_mutations.py); these are its edges."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import GraphQLSettings, Settings
from gateway.app import create_app
from readmodel.audit import AUDIT
from tests.access.compiled import short_path_answers
from tests.conftest import FIRM_NOW, http_client
from tests.resolvers.commands.world import command_count, gid, small_firm, url_of

UNCHANGING = ("date", "traceparent")  # the only headers that differ from answer to answer
SELECTION = """__typename ... on Command { status kind targetSystem idempotencyKey }
  ... on CommandRejected { code message fields { field message } }"""


def document(name: str) -> str:
    return (
        f"mutation Deal{name}($input: UpdateOpportunityInput!) "
        f"{{ updateOpportunity(input: $input) {{ {SELECTION} }} }}"
    )


@asynccontextmanager
async def both_paths(engine: AsyncEngine, **graphql: Any) -> AsyncIterator[dict[str, Any]]:
    """A client of the app whose mutations always take the pipeline, and one of the app
    whose proven mutations take the short path."""
    async with (
        _app(engine, False, graphql) as off,
        _app(engine, True, graphql) as on,
        http_client(off) as pipeline,
        http_client(on) as short,
    ):
        yield {"pipeline": pipeline, "short": short}


@asynccontextmanager
async def _app(engine: AsyncEngine, short: bool, graphql: dict[str, Any]) -> AsyncIterator[Any]:
    limits = GraphQLSettings(short_mutations=short, trusted_documents_only_roles=[], **graphql)
    app = create_app(Settings(database_url=url_of(engine), graphql=limits), clock=lambda: FIRM_NOW)
    async with app.router.lifespan_context(app):
        yield app


def _headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in UNCHANGING}


async def _audited(engine: AsyncEngine) -> list[tuple[str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(AUDIT.c.operation, AUDIT.c.outcome).order_by(AUDIT.c.id))
        return [(r.operation, r.outcome) for r in rows]


async def test_a_proven_mutation_is_answered_with_the_pipelines_bytes(engine: AsyncEngine) -> None:
    ids = await small_firm(engine)
    deal = gid("Opportunity", ids["deal"])
    query = document(uuid.uuid4().hex[:8])
    media = "application/graphql-response+json"
    asks: list[tuple[dict[str, Any], str]] = [
        ({"opportunityId": deal, "probability": 40}, "application/json"),  # accepted
        ({"opportunityId": deal, "probability": 41}, media),
        ({"opportunityId": gid("Opportunity", 10**6), "probability": 1}, "application/json"),
        ({"opportunityId": deal}, "application/json"),  # nothing to change: rejected
        ({"opportunityId": deal, "probability": "forty"}, "application/json"),  # no coercion
        ({"opportunityId": deal, "probability": "forty"}, media),  # … a 4xx in this type
    ]
    async with both_paths(engine) as clients:
        proof = {"input": {"opportunityId": deal, "probability": 5, "idempotencyKey": "proof"}}
        await clients["short"].post("/graphql", json={"query": query, "variables": proof})
        for n, (values, accept) in enumerate(asks):
            answers, entries = {}, {}
            for path, client in clients.items():
                commands, audited = await command_count(engine), await _audited(engine)
                short = short_path_answers()
                key = f"{path[0].upper()}-{n}"  # a new command each: P-0, S-0, …
                variables = {"input": {**values, "idempotencyKey": key}}
                answers[path] = await client.post(
                    "/graphql",
                    json={"query": query, "variables": variables},
                    headers={"accept": accept},
                )
                assert short_path_answers() == short + (path == "short"), (path, values)
                accepted = b'"Command"' in answers[path].content
                assert await command_count(engine) == commands + accepted
                entries[path] = (await _audited(engine))[len(audited) :]
            assert entries["short"] == entries["pipeline"], values  # ACCEPTED, REJECTED or none
            pipeline, short_path = answers["pipeline"], answers["short"]
            assert short_path.status_code == pipeline.status_code, values
            assert _headers(short_path) == _headers(pipeline), values
            expected = pipeline.content.replace(b'"P-', b'"S-')  # the keys differ
            assert short_path.content == expected, values


async def test_a_replay_on_the_short_path_is_the_command_already_accepted(
    engine: AsyncEngine,
) -> None:
    ids = await small_firm(engine)
    query = document(uuid.uuid4().hex[:8]).replace("status", "id status")
    deal = gid("Opportunity", ids["deal"])

    def body(key: str) -> dict[str, Any]:
        values = {"opportunityId": deal, "probability": 7, "idempotencyKey": key}
        return {"query": query, "variables": {"input": values}}

    async with both_paths(engine) as clients:
        first = await clients["pipeline"].post("/graphql", json=body("once"))
        await clients["short"].post("/graphql", json=body("proof"))
        commands, audited, short = (
            await command_count(engine),
            await _audited(engine),
            short_path_answers(),
        )
        again = await clients["short"].post("/graphql", json=body("once"))
    assert short_path_answers() == short + 1
    assert await command_count(engine) == commands  # no second command: the first, replayed
    assert again.json()["data"] == first.json()["data"]
    assert (await _audited(engine))[len(audited) :] == [("updateOpportunity", "ACCEPTED")]
