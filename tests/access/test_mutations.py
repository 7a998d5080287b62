"""Every mutation × every role, generated from the schema and the rule table.

A role the table allows is never FORBIDDEN (a CommandRejected is an answer, not a refusal);
any other gets FORBIDDEN naming the operation, no command is logged, and the audit log keeps
a FORBIDDEN entry. Partners get nothing unless ``auth.partner_mutations`` opens it; then only
on their own clients' records. The mutations run on a firm of their own, so the read matrix's
answers (commands, the audit log) stay still.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    Undefined,
    get_named_type,
    get_nullable_type,
    is_non_null_type,
)
from pydantic import ValidationError
from sqlalchemy import text

from clientgraph.access.policy import OPERATOR_ACTIONS, mutation_roles
from clientgraph.access.roles import Role
from clientgraph.settings import Settings
from readmodel.db import create_engine
from resolvers.handoffs.queries import to_handoff_id
from resolvers.ids import key_of, to_global_id
from tests.access.compiled import short_path_answers
from tests.access.generate import graphql_schema
from tests.access.oracle import allowed_keys
from tests.access.world import (
    LOG_TIME,
    OTHER,
    PARTNER_BY_REF,
    ROLES,
    World,
    built_world,
    log_time_input,
    partner_client,
    staffed,
)
from tests.conftest import BACKENDS, fresh_database, migrated_template

SCHEMA = graphql_schema()
RESULT = "__typename ... on Command { id } ... on CommandRejected { code message }"
KEYS = itertools.count()
TARGET_SQL = {  # a real row for each kind of id an input names
    "Opportunity": "SELECT min(id) FROM opportunity WHERE is_closed = false",
    "Project": f"SELECT min(id) FROM project WHERE account_id = {OTHER}",
    "Person": "SELECT min(person_id) FROM assignment",
    "Milestone": "SELECT min(id) FROM milestone WHERE status = 'planned'",
    "TimeEntry": "SELECT min(id) FROM time_entry WHERE status = 'submitted'",
    "Command": "SELECT min(id) FROM command",
    "Handoff": "SELECT min(id) FROM handoff",
    "Account": "SELECT min(id) FROM account",
    # an id that names no exception (the answer is NOT_FOUND, the firm's are left as they are)
    "IntegrationException": "SELECT coalesce(max(id), 0) + 1000 FROM integration_exception",
}
STRINGS = {"step": "create_project", "reason": "matrix"}
SCALARS = {"Date": "2026-06-29", "Decimal": "1", "Int": 1, "Boolean": True}


@pytest.fixture(scope="module", params=BACKENDS)
async def firm(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    backend = str(request.param)
    template = await migrated_template(backend)
    tmp: Path = tmp_path_factory.mktemp("access-mutations")
    async with fresh_database(backend, tmp, template=template) as url:
        engine = create_engine(url, pool_size=5)
        try:
            async with built_world(backend, url, engine) as built:
                yield built
        finally:
            await engine.dispose()


async def _targets(world: World) -> dict[str, str]:
    out = {}
    async with world.engine.connect() as conn:
        for type_name, sql in TARGET_SQL.items():
            key = (await conn.execute(text(sql))).scalar_one()
            assert key is not None, f"the firm has no {type_name} to aim a mutation at"
            out[type_name] = (
                to_handoff_id(key) if type_name == "Handoff" else to_global_id(type_name, key)
            )
    return out


def _value(name: str, type_: GraphQLInputType, targets: dict[str, str]) -> Any:
    """A value for a required input field: a real row's id, a date, a key…"""
    nullable = get_nullable_type(type_)
    if isinstance(nullable, GraphQLList):
        return [_value(name.removesuffix("s"), nullable.of_type, targets)]
    named = get_named_type(nullable)
    if isinstance(named, GraphQLInputObjectType):
        return _input(named, targets)
    if named.name == "ID":
        return targets[name[0].upper() + name[1:].removesuffix("Id")]
    if name == "idempotencyKey":
        return f"matrix-{next(KEYS)}"
    return STRINGS.get(name, "x") if named.name == "String" else SCALARS[named.name]


def _input(type_: GraphQLInputObjectType, targets: dict[str, str]) -> dict[str, Any]:
    return {
        n: _value(n, f.type, targets)
        for n, f in type_.fields.items()
        if is_non_null_type(f.type) and f.default_value is Undefined
    }


def mutations() -> list[tuple[str, GraphQLInputObjectType]]:
    assert SCHEMA.mutation_type is not None
    out = []
    for name, f in SCHEMA.mutation_type.fields.items():
        (argument,) = f.args.values()
        named = get_named_type(argument.type)
        assert isinstance(named, GraphQLInputObjectType)
        out.append((name, named))
    return out


async def _count(world: World, sql: str, **params: Any) -> int:
    async with world.engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


async def _forbidden_entries(world: World, operation: str, actor: str) -> int:
    return await _count(
        world,
        "SELECT count(*) FROM audit_entry WHERE operation = :o AND actor_id = :a "
        "AND outcome = 'FORBIDDEN'",
        o=operation,
        a=actor,
    )


def test_every_mutation_has_a_rule() -> None:
    assert {name for name, _ in mutations()} == set(mutation_roles())


@pytest.mark.parametrize(
    ("opened", "refusal"),
    [
        (["logTime", "submitChangeOrder"], None),
        (["zapAll", "logTime", "dropAll"], "no such mutation: dropAll, zapAll"),
        *((["logTime", name], "operator actions cannot be opened to partners") for name in
          sorted(OPERATOR_ACTIONS)),
    ],
    ids=lambda v: ",".join(v) if isinstance(v, list) else "",
)  # fmt: skip
def test_a_deployment_opens_mutations_to_partners_but_never_an_operator_action(
    monkeypatch: pytest.MonkeyPatch, opened: list[str], refusal: str | None
) -> None:
    """``CLIENTGRAPH_AUTH__PARTNER_MUTATIONS`` is checked when the settings are read: an
    unknown name or an operator action stops the process before it serves."""
    monkeypatch.setenv("CLIENTGRAPH_AUTH__PARTNER_MUTATIONS", json.dumps(opened))
    if refusal is None:
        assert Settings().auth.partner_mutations == opened
        return
    with pytest.raises(ValidationError, match=refusal):
        Settings()


@pytest.mark.parametrize("role", ROLES, ids=str)
async def test_each_mutation_is_refused_or_run_as_the_table_says(firm: World, role: Role) -> None:
    """Each document twice: the first request through the whole pipeline proves it, the second
    takes the gateway's short path (gateway/short_path.py), under the same rules."""
    caller, targets, table = firm.caller(role), await _targets(firm), mutation_roles()
    failures = []
    run = uuid.uuid4().hex[:8]  # documents of this run's own: the proofs are the process's
    for (name, input_type), path in itertools.product(mutations(), ("pipeline", "short path")):
        document = (
            f"mutation M{run}($input: {input_type.name}!) "
            f"{{ {name}(input: $input) {{ {RESULT} }} }}"
        )
        commands = await _count(firm, "SELECT count(*) FROM command")
        audited = await _forbidden_entries(firm, name, caller.principal_id)
        short = short_path_answers()
        body = await caller.post(document, {"input": _input(input_type, targets)})
        if short_path_answers() != short + (path == "short path"):
            failures.append(f"{role} × {name}: not answered by the {path}")
        codes = [e["extensions"]["code"] for e in body.get("errors") or []]
        if role in table[name]:
            if codes or body["data"][name]["__typename"] not in {"Command", "CommandRejected"}:
                failures.append(f"{role} × {name} ({path}): allowed by the table, got {body}")
            continue
        error = (body.get("errors") or [{}])[0]
        if codes != ["FORBIDDEN"] or body.get("data") is not None:
            failures.append(f"{role} × {name} ({path}): must be FORBIDDEN, got {body}")
        elif error["extensions"].get("operation") != name or name not in error["message"]:
            failures.append(f"{role} × {name} ({path}): the refusal must name it: {error}")
        if await _count(firm, "SELECT count(*) FROM command") != commands:
            failures.append(f"{role} × {name} ({path}): refused, yet a command was logged")
        if await _forbidden_entries(firm, name, caller.principal_id) != audited + 1:
            failures.append(f"{role} × {name} ({path}): refused, but no FORBIDDEN audit entry")
    assert not failures, "\n".join(failures)


async def test_a_partner_opened_to_log_time_logs_it_on_its_own_clients_only(firm: World) -> None:
    partner = firm.caller(Role.PARTNER)
    own_project, own_person = await staffed(firm.engine, PARTNER_BY_REF)
    other_project, other_person = await staffed(firm.engine, OTHER)
    nowhere_project = to_global_id("Project", 987_654_321)
    operator_action = 'mutation { cancelCommand(input: {commandId: "x", idempotencyKey: "k"}) {'
    log_time = LOG_TIME.replace("mutation(", f"mutation Own{uuid.uuid4().hex[:8]}(")  # its own
    short = short_path_answers()
    async with partner_client(firm, ["logTime"]) as client:

        async def ask(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
            response = await client.post("/graphql", json={"query": query, "variables": variables})
            return dict(response.json())

        def log(project: str, person: str) -> dict[str, Any]:
            return {"input": log_time_input(project, person, f"{project}/{person}")}

        own = await ask(log_time, log(own_project, own_person))
        other = await ask(log_time, log(other_project, own_person))
        nowhere = await ask(log_time, log(nowhere_project, own_person))
        mixed = await ask(log_time, log(own_project, other_person))
        refused = await ask(operator_action + " __typename } }")
    assert short_path_answers() == short + 3  # after the first: the short path's, same rules

    assert own["data"]["logTime"]["__typename"] == "Command", own
    assert other["data"]["logTime"]["code"] == "NOT_FOUND", other
    assert other["data"] == nowhere["data"], "another client's project reads as a missing one"
    accounts = firm.partner_accounts
    people = await allowed_keys(firm.engine, Role.PARTNER, partner.principal_id, accounts)
    seen = key_of(other_person, "Person") in people["Person"]
    assert mixed["data"]["logTime"]["__typename"] == ("Command" if seen else "CommandRejected")
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
