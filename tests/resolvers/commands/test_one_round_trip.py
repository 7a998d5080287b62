"""A command's records checked inside the statement that logs it (PostgreSQL, one round trip)
answer exactly as the resolver's own checks run on rows read first (the reference semantics,
``writes.checks_in_statement=false``; also SQLite's path).

Property-based: generated inputs of every mutation that names records — ids of live,
soft-deleted, missing, closed, completed, approved, other systems' and other clients' records,
wrong types, amounts in either currency or malformed, duplicates — sent over HTTP by an admin,
an account team limited to its book and a delivery key limited to one client, to two gateways
on one PostgreSQL database, one of each kind. Both answer the same (status or refusal code,
message and every field's problem, in order), and the commands they log are the same (the
payload's text byte for byte, the target). Nothing either logs changes what the other reads
(commands are not executed here). Currencies and notes PostgreSQL cannot hold (NUL, a lone
surrogate) are refused as input on both, never a server error.

Verified: with the guard's currency, status, owner or live-row check dropped from the
statement (readmodel/command_targets.py), this test finds a command one gateway logs and the
other refuses; without the currency's shape check, a NUL currency fails the statement (an
internal error) where the reference refuses it; with Python's payload text ASCII-escaped, the
non-ASCII source id's payloads differ.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import AuthSettings, Settings, WritesSettings
from gateway.app import create_app
from readmodel import api_keys
from readmodel.command_log import COMMANDS
from tests.conftest import FIRM_NOW, http_client
from tests.gateway.sockets import socket_messages
from tests.readmodel.firm_builder import FirmBuilder, build
from tests.resolvers.commands.world import RESULT, gid, mutation, url_of

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

SF, NS = "salesforce", "netsuite"
JSON = "application/json"
EXAMPLES = 200
MUTATIONS = {
    "updateOpportunity": "UpdateOpportunityInput",
    "markOpportunityWon": "MarkOpportunityWonInput",
    "logTime": "LogTimeInput",
    "approveTimeEntries": "ApproveTimeEntriesInput",
    "completeMilestone": "CompleteMilestoneInput",
    "submitChangeOrder": "SubmitChangeOrderInput",
    "issueInvoice": "IssueInvoiceInput",
}


async def _recipe(b: FirmBuilder, ids: dict[str, Any]) -> None:
    """Two clients (two books), each kind of record in the states the checks look at."""
    acme = await b.account("Acme", source_system=SF, source_id="001A", owner_name="Ann Book")
    beta = await b.account("Beta", source_system=SF, source_id="001B", owner_name="Bo Book")
    ids["acme"] = acme
    deals = ids["Opportunity"] = []
    for account in (acme, beta):
        deals.append(await b.opportunity(account, 500_000, source_system=SF, currency="USD"))
    deals.append(  # a source id JSON escapes: the payload's text is the same on both paths
        await b.opportunity(acme, 9, source_system=SF, currency="EUR", source_id='006é"\u2028\\')
    )
    deals.append(
        await b.opportunity(
            acme, 1, source_system=SF, stage="closed_won", is_closed=True, is_won=True
        )
    )
    deals.append(
        await b.opportunity(acme, 1, source_system=SF, stage="closed_lost", is_closed=True)
    )
    deals.append(await b.opportunity(acme, 1, source_system="hubspot"))
    deals.append(await b.opportunity(acme, 1, source_system=SF, deleted=True))
    projects = ids["Project"] = []
    for account, currency in ((acme, "EUR"), (acme, "USD"), (beta, "USD")):
        projects.append(
            await b.project(
                account, f"P{len(projects)}", "fixed_fee", source_system=NS, currency=currency
            )
        )
    projects.append(await b.project(acme, "T", "fixed_fee", source_system="tryton"))
    projects.append(await b.project(acme, "D", "fixed_fee", source_system=NS, deleted=True))
    people = ids["Person"] = [
        await b.person("Ann", source_system=NS),
        await b.person("Bo", source_system=NS),
        await b.person("Tom", source_system="tryton"),
    ]
    entries = ids["TimeEntry"] = []
    for project, person, status, system in (
        (projects[0], people[0], "submitted", NS),
        (projects[0], people[0], "submitted", NS),
        (projects[1], people[0], "approved", NS),
        (projects[2], people[1], "submitted", NS),
        (projects[3], people[2], "submitted", "tryton"),
    ):
        entries.append(await b.time(project, person, 100, status, source_system=system))
    entries.append(await b.time(projects[0], people[0], 100, "submitted", source_system=NS,
                                deleted=True))  # fmt: skip
    milestones = ids["Milestone"] = []
    for project, status, system in (
        (projects[0], "planned", NS),
        (projects[0], "completed", NS),
        (projects[2], "planned", NS),
        (projects[3], "planned", "tryton"),
    ):
        milestones.append(
            await b.milestone(project, 1_000, status, date(2026, 7, 1), source_system=system)
        )


def _ids(type_name: str, ids: dict[str, Any]) -> st.SearchStrategy[str]:
    """Ids of that type's records, a missing one and one of another type."""
    keys = [*ids[type_name], 999_999]
    return st.one_of(
        st.sampled_from([gid(type_name, k) for k in keys]),
        st.just(gid("Account", ids["acme"])),
    )


MONEY = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "amount": st.sampled_from(["10.00", "0", "-3.50", "1.234", "x"]),
            "currency": st.sampled_from(["EUR", "USD", "eur", "E\u0000R", "\ud800"]),
        }
    ),
)
DATES = st.sampled_from([None, "2026-06-01", "2026-12-31"])


def _inputs(ids: dict[str, Any]) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    deal, project = _ids("Opportunity", ids), _ids("Project", ids)
    by_name = {
        "updateOpportunity": st.fixed_dictionaries(
            {"opportunityId": deal},
            optional={
                "probability": st.sampled_from([40, 140]),
                "stage": st.sampled_from(["NEGOTIATION", "CLOSED_WON"]),
                "amount": MONEY,
                "closeDate": DATES,
            },
        ),
        "markOpportunityWon": st.fixed_dictionaries(
            {"opportunityId": deal},
            optional={
                "closeDate": DATES,
                "handoff": st.fixed_dictionaries(
                    {},
                    optional={
                        "managerName": st.sampled_from(["Mo", " "]),
                        "milestones": st.lists(
                            st.fixed_dictionaries(
                                {
                                    "name": st.just("Kick-off"),
                                    "dueDate": st.just("2026-08-01"),
                                    "amount": MONEY.filter(lambda m: m is not None),
                                }
                            ),
                            max_size=2,
                        ),
                    },
                ),
            },
        ),
        "logTime": st.fixed_dictionaries(
            {
                "projectId": project,
                "personId": _ids("Person", ids),
                "workDate": st.just("2026-06-01"),
                "hours": st.sampled_from(["1.5", "0.1"]),
            },
            optional={"note": st.sampled_from(["ok", "", "\ud800", "é\u2028"])},
        ),
        "approveTimeEntries": st.fixed_dictionaries(
            {"timeEntryIds": st.lists(_ids("TimeEntry", ids), min_size=0, max_size=3)}
        ),
        "completeMilestone": st.fixed_dictionaries(
            {"milestoneId": _ids("Milestone", ids)}, optional={"completedOn": DATES}
        ),
        "submitChangeOrder": st.fixed_dictionaries(
            {"projectId": project, "reason": st.sampled_from(["scope", ""])},
            optional={
                "budgetDelta": MONEY,
                "hoursDelta": st.sampled_from([None, "2", "0.3"]),
                "daysDelta": st.sampled_from([None, 0, 5]),
            },
        ),
        "issueInvoice": st.fixed_dictionaries(
            {"projectId": project},
            optional={"amount": MONEY, "issueDate": DATES, "dueDate": DATES},
        ),
    }
    return st.one_of([st.tuples(st.just(name), inputs) for name, inputs in by_name.items()])


def _explicit(ids: dict[str, Any]) -> list[tuple[tuple[str, dict[str, Any]], str]]:
    """Calls the examples must hold whatever is drawn: text no database can hold, otherwise
    valid (a refusal elsewhere would hide it)."""
    project, person = gid("Project", ids["Project"][0]), gid("Person", ids["Person"][0])
    deal = gid("Opportunity", ids["Opportunity"][0])
    time = {"projectId": project, "personId": person, "workDate": "2026-06-01", "hours": "1.5"}
    return [
        (("logTime", {**time, "note": "\ud800"}), "admin"),
        (("logTime", {**time, "note": "é\u2028"}), "admin"),
        (
            ("submitChangeOrder", {"projectId": project, "reason": "\ud800", "daysDelta": 5}),
            "admin",
        ),
        (
            (
                "updateOpportunity",
                {"opportunityId": deal, "amount": {"amount": "1", "currency": "E\u0000R"}},
            ),
            "admin",
        ),
    ]


@asynccontextmanager
async def _gateway(engine: AsyncEngine, in_statement: bool) -> AsyncIterator[httpx.AsyncClient]:
    auth = AuthSettings(anonymous_role=None, book_scoped_account_teams=True)
    writes = WritesSettings(checks_in_statement=in_statement)
    app = create_app(Settings(database_url=url_of(engine), auth=auth, writes=writes),
                     clock=lambda: FIRM_NOW)  # fmt: skip
    async with app.router.lifespan_context(app), http_client(app) as client:
        yield client


def _answer(body: dict[str, Any], name: str) -> tuple[Any, ...]:
    """What a caller hears, less what names the call itself (its key, its command's id)."""
    if body.get("data") is None:
        return ("errors", [e.get("extensions", {}).get("code") for e in body["errors"]])
    result = body["data"][name]
    if result["__typename"] == "CommandRejected":
        return ("rejected", result["code"], result["message"], result["fields"])
    return ("command", result["kind"], result["status"], result["targetSystem"], result["target"])


async def _logged(engine: AsyncEngine, key: str) -> tuple[Any, ...] | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(select(COMMANDS).where(COMMANDS.c.idempotency_key == key))
        ).first()
    if row is None:
        return None
    return (row.kind, row.target_object, row.target_source_id, row.payload)


async def test_checks_in_the_statement_answer_as_the_resolvers_checks(engine: AsyncEngine) -> None:
    ids = await build(engine, _recipe)
    keys = {}
    for name, role, extra in (
        ("admin", "admin", {}),
        ("book", "account_team", {"owner": "Ann Book"}),
        ("delivery", "delivery", {"accounts": [gid("Account", ids["acme"])]}),
    ):
        keys[name], _ = await api_keys.create(engine, name=name, role=role, now=FIRM_NOW, **extra)
    drawn: list[tuple[tuple[str, dict[str, Any]], str]] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,  # the same calls every run (no shrinking: each failure names its input)
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(call=_inputs(ids), caller=st.sampled_from(sorted(keys)))
    def draw(call: tuple[str, dict[str, Any]], caller: str) -> None:
        drawn.append((call, caller))

    draw()
    drawn[:0] = _explicit(ids)
    outcomes: dict[str, int] = {}
    async with _gateway(engine, True) as one, _gateway(engine, False) as reference:
        for n, ((name, data), caller) in enumerate(drawn):
            document = (
                f"mutation($input: {MUTATIONS[name]}!) {{ {name}(input: $input) {{ {RESULT} }} }}"
            )
            headers = {"Authorization": f"Bearer {keys[caller]}", "Content-Type": JSON}
            answers, logged = [], []
            for client, side in ((one, "one"), (reference, "ref")):
                key = f"{side}-{n}"
                body = {"query": document, "variables": {"input": {**data, "idempotencyKey": key}}}
                sent = json.dumps(body)  # ASCII: a lone surrogate goes as its escape
                response = await client.post("/graphql", content=sent, headers=headers)
                assert response.status_code == 200, response.text
                answers.append(_answer(response.json(), name))
                logged.append(await _logged(engine, key))
            assert answers[0] == answers[1], (name, caller, data)
            assert "INTERNAL_SERVER_ERROR" not in str(answers[0]), (name, caller, data)
            assert logged[0] == logged[1], (name, caller, data)
            outcome = answers[0][0] if answers[0][0] != "rejected" else answers[0][1]
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    # the calls reached every outcome that matters: accepted, and each refusal of the records
    assert {"command", "NOT_FOUND", "NOT_OWNED", "VALIDATION_FAILED"} <= set(outcomes), outcomes


async def test_a_mutation_over_the_socket_keeps_the_callers_row_rules(engine: AsyncEngine) -> None:
    """Over graphql-transport-ws (no bare connections: the engine runs the statement) a
    book-scoped account team's command is checked in its one statement with its book's rule:
    its own client's deal is accepted, another book's is NOT_FOUND and logs nothing.
    Verified: with the rule dropped from the statement, the second is accepted."""
    ids = await build(engine, _recipe)
    key, _ = await api_keys.create(
        engine, name="book", role="account_team", owner="Ann Book", now=FIRM_NOW
    )
    auth = AuthSettings(anonymous_role=None, book_scoped_account_teams=True)
    app = create_app(Settings(database_url=url_of(engine), auth=auth), clock=lambda: FIRM_NOW)
    document = mutation("updateOpportunity", "UpdateOpportunityInput")
    deals = ids["Opportunity"][:2]  # Acme's (Ann's book), Beta's (Bo's)
    payloads = [
        {
            "query": document,
            "variables": {
                "input": {
                    "opportunityId": gid("Opportunity", deal),
                    "probability": 55,
                    "idempotencyKey": f"socket-{n}",
                }
            },
        }
        for n, deal in enumerate(deals)
    ]
    statements: list[str] = []
    async with app.router.lifespan_context(app):
        event.listen(
            app.state.engine.sync_engine,
            "before_cursor_execute",
            lambda _c, _k, statement, *_: statements.append(" ".join(statement.split())),
        )
        seen = await socket_messages(app, {"Authorization": f"Bearer {key}"}, payloads)
    results = [m["payload"]["data"]["updateOpportunity"] for m in seen if m["type"] == "next"]
    assert [r["__typename"] for r in results] == ["Command", "CommandRejected"], seen
    assert results[1]["code"] == "NOT_FOUND"
    logged = [s for s in statements if "INSERT INTO command " in s]
    assert len(logged) == 2 and all("account.owner_name = CAST(" in s for s in logged), logged
    async with engine.connect() as conn:
        keys = (await conn.execute(select(COMMANDS.c.idempotency_key))).scalars().all()
    assert keys == ["socket-0"]
