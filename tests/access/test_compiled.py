"""The compiled read path answers exactly as the per-field path, for every role.

Fixed documents here (the benchmark's shapes, paging, errors that must fall back); generated
ones in test_compiled_fuzz.py. Both paths run on the access world (SQLite and PostgreSQL).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from clientgraph.access.policy import FIELD_ROLES
from clientgraph.access.roles import Role
from resolvers.ids import to_global_id
from resolvers.planner import catalog
from tests.access.compiled import Answer, TwoPaths, ask, ordered, short_path_answers, two_paths
from tests.access.test_response_cache import lookups
from tests.access.world import OTHER, PARTNER_BY_ID, ROLES, World

QUERIES = Path(__file__).parents[2] / "bench" / "queries"
UNIFIED_VIEW = (QUERIES / "unified_client_view_rows.graphql").read_text()  # without figures
PORTFOLIO = """
query PortfolioList($after: String) {
  accounts(first: 5, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name } }
    nodes {
      id name currency status
      invoices(status: [POSTED, PARTIALLY_PAID]) { number dueDate daysOverdue balance { amount } }
    }
  }
}
"""
MIXED = """
query Mixed($first: Int, $open: Boolean = true) {
  __typename
  p: projects(first: $first) {
    __typename
    nodes { ...P code budgetHours budget { amount currency __typename } account { name } }
    pageInfo { endCursor hasNextPage }
  }
  i: invoices(first: 3) { edges { node { id number account { id } project { code } } } }
}
fragment P on Project {
  id name billingMethod activatedAt
  engagement { name signedAt opportunity { name isWon isClosed closedAt stage amount { amount } } }
  milestones(first: 2) { ... on Milestone { name isSlipped completedAt amount { amount } } }
  account { opportunities(openOnly: $open) { name } contacts(first: 1) { name email } }
}
"""
OVERDUE = (QUERIES / "overdue_invoices.graphql").read_text()
FILTERED = """
query Filtered($filter: InvoiceFilter, $first: Int) {
  invoices(first: $first, filter: $filter) { totalCount nodes { number daysOverdue } }
}
"""
FIGURES = "query { projects(first: 2) { nodes { code budgetBurn percentComplete } } }"
ABSTRACT = """
query Abstract($id: ID!) {
  account(id: $id) {
    id
    ... on _Entity { __typename ... on Account { name } ... on Invoice { number } }
    ... on Node { ... on Account { currency } }
    engagements { ...E projects { ... on Node { id ... on Project { code } } } }
  }
  invoices(first: 2) { nodes { ...E } }
}
fragment E on _Entity { ... on Engagement { name } ... on Invoice { number } ... on Project { id } }
"""
NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Account { name currency }
    ... on Project { code budgetBurn account { name } }
    ... on Invoice { number balance { amount } }
    ... on Contact { name email }
    ... on Milestone { name dueDate }
    ... on _Entity { ... on Opportunity { name stage } ... on Engagement { name } }
    ... on Payment { receivedOn amount { amount } }
  }
  again: node(id: $id) { id ... on Node { __typename } }
}
"""
NODE_TYPES = (
    "Account", "Project", "Invoice", "Contact", "Milestone", "Opportunity", "Engagement", "Payment",
)  # fmt: skip
LISTS = """
query Lists($after: String, $first: Int) {
  contacts(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { name email lastName account { name } } }
  }
  opportunities(first: $first) {
    nodes { name closeDate stage amount { amount currency } account { id } }
    pageInfo { endCursor }
  }
  engagements(first: $first) { totalCount nodes { name status projects { code } } }
  milestones(first: $first) { edges { node { name dueDate isSlipped project { code } } } }
}
"""
NOT_COMPILED = "query { projects(first: 2) { nodes { code sourceRefs { system } } } }"
UNIFIED_FIGURES = (QUERIES / "unified_client_view.graphql").read_text()  # bench workload 1
PORTFOLIO_HEALTH = (QUERIES / "portfolio_list.graphql").read_text()  # bench workload 2
EVERY_FIGURE = """
query Figures($first: Int) {
  projects(first: $first) {
    nodes {
      code hoursLogged costToDate { amount currency } budgetBurn eac { amount currency }
      percentComplete recognizedRevenue { amount currency } unbilledWip { amount currency }
      billed { amount currency __typename } collected { amount } margin
      engagement { backlog { amount currency } billedToDate { amount } delivered { amount } }
      account {
        h: health { __typename asOf score status factors { __typename name value weight
                    penalty explanation } }
        health { s: score }
      }
    }
  }
}
"""
OUTLOOK_RATIOS = """
query OutlookRatios($first: Int) {
  projects(first: $first) {
    nodes { code outlook { __typename asOf status lowToBudget highToBudget trendDaysLeft } }
  }
}
"""
EVERY_OUTLOOK = """
query Outlooks($first: Int) {
  projects(first: $first) {
    nodes {
      code
      outlook {
        asOf status lowToBudget highToBudget trendDaysLeft
        teamEac { amount currency } trendEac { amount __typename } dailyBurn { amount }
        eacLow { amount } eacHigh { currency amount } overrunLow { amount } overrunHigh { amount }
        revenueAtCompletion { amount currency } marginAtCompletion
        factors { __typename name value explanation }
      }
      o: outlook { f: factors { explanation } status }
    }
  }
}
"""
PROJECT_OUTLOOK = """
query ProjectOutlook($id: ID!) {
  project(id: $id) {
    code budgetBurn
    ... on Project { outlook { status eacHigh { amount } factors { name value } } }
  }
}
"""
OUTLOOK_MONEY = [n for t, n in FIELD_ROLES if t == "ProjectOutlook"]
READINESS = """
query Readiness($first: Int) {
  accounts(first: $first) {
    nodes {
      name
      opportunities {
        name isClosed serviceLine
        readiness { __typename checks passed score ready issues { __typename field message owner } }
        r: readiness { ready }
      }
    }
  }
}
"""
DEAL_READINESS = """
query DealReadiness($id: ID!) {
  opportunity(id: $id) { name readiness { score issues { field owner } } account { name } }
}
"""


async def _same(
    paths: TwoPaths,
    role: Role,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    compiled: bool = False,
) -> tuple[Answer, Answer]:
    """Both paths answer alike; ``compiled``: and the compiled one in one statement."""
    per_field, answer = await paths.both(role, query, variables)
    assert answer.status == per_field.status
    assert answer.body == per_field.body, (role, query, variables)
    if compiled:
        assert answer.statements == 1, (query, variables)
    return per_field, answer


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
async def test_fixed_documents_answer_alike(paths: TwoPaths, role: Role) -> None:
    inside, outside = to_global_id("Account", PARTNER_BY_ID), to_global_id("Account", 1)
    admin = role is Role.ADMIN  # sees every row: no NOT_FOUND to fall back for
    for account in (inside, outside):
        await _same(paths, role, UNIFIED_VIEW, {"id": account}, compiled=admin)
    for wrong in (to_global_id("Project", 1), "junk", to_global_id("Account", 10**6)):
        await _same(paths, role, UNIFIED_VIEW, {"id": wrong})
    _, first_page = await _same(paths, role, PORTFOLIO, compiled=True)
    end = first_page.body[0][1][0][1][1][1][3][1]  # data.accounts.pageInfo.endCursor
    await _same(paths, role, PORTFOLIO, {"after": end}, compiled=True)
    await _same(paths, role, PORTFOLIO, {"after": "nonsense"})
    for first in (None, 0, 2):
        await _same(paths, role, MIXED, {"first": first}, compiled=True)
    await _same(paths, role, MIXED, {"first": 1000})  # over the maximum: BAD_USER_INPUT
    await _same(paths, role, MIXED, {"first": 3, "open": False}, compiled=True)
    _, overdue = await _same(paths, role, OVERDUE, {"after": None}, compiled=True)
    end = overdue.body[0][1][0][1][0][1][1][1]  # data.invoices.pageInfo.endCursor
    await _same(paths, role, OVERDUE, {"after": end}, compiled=True)
    for given in (None, {}, {"overdue": True}, {"overdue": False}, {"overdue": None}):
        await _same(paths, role, FILTERED, {"filter": given, "first": 50}, compiled=True)
    await _same(paths, role, FILTERED, {"filter": {"status": ["PAID"]}})  # per field
    await _same(paths, role, FIGURES, compiled=True)  # budgetBurn masked for a partner
    _, lists = await _same(paths, role, LISTS, {"first": 2}, compiled=True)
    end = dict(dict(dict(lists.body)["data"])["contacts"])["pageInfo"]
    after = dict(end)["endCursor"]
    if after is not None:  # the next page of contacts, by its cursor
        await _same(paths, role, LISTS, {"first": 2, "after": after}, compiled=True)
    await _same(paths, role, LISTS, {"first": 2, "after": "nonsense"})  # BAD_USER_INPUT
    # fragments on an interface or a union the object belongs to apply (not the others)
    await _same(paths, role, ABSTRACT, {"id": inside}, compiled=True)


@pytest.mark.parametrize("world", ["postgresql"], indirect=True)  # (a lease is PostgreSQL's)
async def test_answers_under_the_counters_lease_are_alike(world: World) -> None:
    """The compiled app holding the counters' lease (resolvers/planner/lease.py): each answer
    is asked three times (a miss, then hits that run no statement and take their freshness
    from the lease's snapshot), each the per-field path's, for every role."""
    inside = {"id": to_global_id("Account", PARTNER_BY_ID)}
    asked = ((UNIFIED_VIEW, inside), (PORTFOLIO, {}), (FIGURES, {}), (LISTS, {"first": 2}))
    async with two_paths(world, response_cache_lease=True) as leased:
        assert await leased.compiled_app.state.counter_lease.taken(5.0)
        hits = lookups("hit")
        for role in ROLES:
            for query, variables in asked:
                per_field = await ask(leased.per_field[role], query, variables)
                for _ in range(3):
                    compiled = await ask(leased.compiled[role], query, variables)
                    assert compiled.body == per_field.body, (role, query)
                    assert compiled.status == per_field.status
        # the portfolio and the lists compile for every role (above): two hits each
        assert lookups("hit") >= hits + 2 * 2 * len(ROLES)


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
async def test_nodes_compile_for_the_type_their_id_names(
    paths: TwoPaths, world: World, role: Role
) -> None:
    """``node(id:)`` of each catalog type, its fragments applied for that type; an object the
    role may not see, a malformed id and a Command's id are answered per field alike."""
    admin = role is Role.ADMIN
    async with world.engine.connect() as conn:
        for type_name in NODE_TYPES:
            table = catalog.ENTITIES[type_name].table
            found = await conn.execute(text(f"SELECT min(id) FROM {table}"))
            node = to_global_id(type_name, found.scalar_one())
            # a payment's amount, which the admin sees, is not in the catalog: per field
            await _same(paths, role, NODE, {"id": node}, compiled=admin and type_name != "Payment")
    one = "query($id: ID!) { node(id: $id) { id ... on Account { name } } }"  # errors' order
    for other in ("junk", to_global_id("Command", 1), to_global_id("Account", 10**6)):
        await _same(paths, role, one, {"id": other})


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
async def test_figures_and_health_answer_alike(paths: TwoPaths, role: Role) -> None:
    """The stored figures and health (readmodel/figures/stored.py) read by the compiled path
    equal what the per-field path computes; a guarded figure masked for the role is null and
    in ``extensions.masked`` on both, the operation still one statement (the bench's unified
    view included: as deep as SQLite's parser allows, with its masked paths)."""
    admin = role is Role.ADMIN
    inside = to_global_id("Account", PARTNER_BY_ID)
    for account in (inside, to_global_id("Account", OTHER)):
        compiled = admin or account == inside  # another client: NOT_FOUND for a partner
        await _same(paths, role, UNIFIED_FIGURES, {"id": account}, compiled=compiled)
    await _same(paths, role, PORTFOLIO_HEALTH, compiled=True)
    for first in (1, 50):
        await _same(paths, role, EVERY_FIGURE, {"first": first}, compiled=True)


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
async def test_outlooks_answer_alike(paths: TwoPaths, world: World, role: Role) -> None:
    """``Project.outlook`` stored with the figures (readmodel/figures/stored.py) and read by
    the compiled path equals what the per-field path computes, every subfield and factor in
    order; a role it (or one of its guarded subfields) is masked for falls back."""
    internal = role in FIELD_ROLES[("Project", "outlook")]
    money = all(role in FIELD_ROLES[("ProjectOutlook", n)] for n in OUTLOOK_MONEY)
    for first in (1, 50):
        await _same(paths, role, OUTLOOK_RATIOS, {"first": first}, compiled=internal)
        await _same(paths, role, EVERY_OUTLOOK, {"first": first}, compiled=internal and money)
    async with world.engine.connect() as conn:
        keys = [r[0] for r in await conn.execute(text("SELECT id FROM project ORDER BY id"))]
    for key in keys[:: max(1, len(keys) // 5)]:  # the admin sees every project: no NOT_FOUND
        variables = {"id": to_global_id("Project", key)}
        await _same(paths, role, PROJECT_OUTLOOK, variables, compiled=role is Role.ADMIN)


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
async def test_readiness_answers_alike(paths: TwoPaths, world: World, role: Role) -> None:
    """``Opportunity.readiness`` written in SQL (resolvers/planner/readiness.py) equals the
    handoff's checks the per-field path runs, issues in order, null for closed deals; a role
    it is masked for falls back."""
    internal = role in FIELD_ROLES[("Opportunity", "readiness")]
    for first in (1, 50):
        await _same(paths, role, READINESS, {"first": first}, compiled=internal)
    async with world.engine.connect() as conn:
        found = await conn.execute(text("SELECT id FROM opportunity ORDER BY id"))
        keys = [r[0] for r in found]
    for key in keys[:: max(1, len(keys) // 6)]:
        variables = {"id": to_global_id("Opportunity", key)}
        await _same(paths, role, DEAL_READINESS, variables, compiled=role is Role.ADMIN)


async def test_the_worlds_deals_reach_every_readiness_check(paths: TwoPaths, world: World) -> None:
    """The world's deals are open and closed and fail several checks (else the comparison
    above proves little); every check, and a ready deal, on hand-made deals:
    tests/forecasts/test_deal_readiness.py."""
    per_field, compiled = await paths.both(Role.ADMIN, READINESS, {"first": 100})
    assert compiled.body == per_field.body and compiled.statements == 1
    accounts = dict(dict(dict(compiled.body)["data"])["accounts"])["nodes"]
    deals = [dict(o) for a in accounts for o in dict(a)["opportunities"]]
    readiness = [dict(o["readiness"]) for o in deals if o["readiness"] is not None]
    assert any(o["readiness"] is None for o in deals)  # closed deals
    failed = {dict(i)["field"] for r in readiness for i in r["issues"]}
    assert len(failed) >= 2, failed


async def test_the_unified_view_is_one_statement(paths: TwoPaths) -> None:
    """Compiled, the operation is one statement (as /metrics counts an operation's: the
    caller's key and extensions.freshness are read around it); per field, one per list and
    level."""
    variables = {"id": to_global_id("Account", PARTNER_BY_ID)}
    slow, fast = await paths.both(Role.ADMIN, UNIFIED_VIEW, variables)
    assert fast.statements == 1
    assert slow.statements >= 6  # account, engagements, projects, milestones, invoices ×2


async def test_outcomes_are_counted(paths: TwoPaths) -> None:
    def outcome(name: str) -> float:
        found = REGISTRY.get_sample_value(
            "clientgraph_graphql_compiled_reads_total", {"outcome": name}
        )
        return found or 0.0

    names = ("compiled", "not_compiled", "fallback")
    before = {n: outcome(n) for n in names}
    short_before = {n: short_path_answers(n) for n in ("answered", "pipeline")}
    admin = paths.compiled[Role.ADMIN]
    inside = {"id": to_global_id("Account", PARTNER_BY_ID)}
    view = UNIFIED_VIEW + "\n# a text no other test asks: its plan is new"
    await ask(admin, view, inside)  # compiled, and so proven
    await ask(admin, NOT_COMPILED + " ", {})
    missing = await ask(admin, view, {"id": to_global_id("Account", 10**6)})
    # the third: the short path's statement says fallback (no such row); the pipeline then
    # answers per field, without offering the statement to the planner a second time
    assert {n: outcome(n) - before[n] for n in names} == {
        "compiled": 1.0,
        "not_compiled": 1.0,
        "fallback": 0.0,
    }
    assert {n: short_path_answers(n) - v for n, v in short_before.items()} == {
        "answered": 0,
        "pipeline": 1,
    }
    assert missing.statements >= 1 and "errors" in dict(missing.body)
    await ask(admin, view, inside)  # the proof stays: the short path
    assert short_path_answers() - short_before["answered"] == 1


MASKED_PAGE = """
query MaskedPage($first: Int) {
  projects(first: $first) {
    nodes { code c: costToDate { amount } cost: costToDate { currency } budgetBurn margin }
    edges { node { ...Money } cursor }
  }
}
fragment Money on Project { eac { amount } margin unbilledWip { amount } }
"""
MASKED_RECORD = """
query MaskedRecord($id: ID!, $first: Int) {
  account(id: $id) {
    name
    parent { name projects { code margin } }
    children { name projects { code percentComplete ... on Project { margin } } }
    projects(first: $first) { code ...Money margin ... on Project { margin } }
    invoices {
      number payments { status amount { amount } r: receivedOn } project { eac { amount } }
    }
  }
}
fragment Money on Project { unbilledWip { amount } margin costToDate { amount } }
"""
MASKED_LISTS = """
query MaskedLists($status: [InvoiceStatus!]) {
  accounts(first: 20) {
    nodes {
      name
      invoices(status: $status) { number payments { amount { amount currency } receivedOn } }
      engagements { projects { code outlook { teamEac { amount } } } }
    }
  }
}
"""
PAYMENTS = (("Payment", "amount"), ("Payment", "receivedOn"))  # outside the catalog: they
OUTLOOK = (("Project", "outlook"),)  # compile only where they are masked


def _outcomes() -> dict[str, float]:
    names = ("compiled", "not_compiled", "fallback", "failed")
    return {
        n: REGISTRY.get_sample_value("clientgraph_graphql_compiled_reads_total", {"outcome": n})
        or 0.0
        for n in names
    } | {"short": short_path_answers()}


def _masked(answer: Answer) -> list[str]:
    return list(dict(dict(answer.body).get("extensions", [])).get("masked", []))


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
async def test_masked_fields_compile_as_the_per_field_path_masks_them(
    paths: TwoPaths, role: Role
) -> None:
    """A guarded field masked for the role is null on the compiled path too, in one statement,
    and ``extensions.masked`` lists exactly the paths the per-field path lists: none under an
    empty list or a null parent, one per alias, once for a field asked twice under one key
    (fragments), through nested lists, connections' nodes and edges."""
    payments = not any(role in FIELD_ROLES[k] for k in PAYMENTS)  # compiles: masked for it
    outlook = not any(role in FIELD_ROLES[k] for k in OUTLOOK)
    inside = to_global_id("Account", PARTNER_BY_ID)  # a child of a parent the partner cannot see
    named = to_global_id("Account", 5)  # its child 6 is not the partner's
    asked: list[tuple[str, dict[str, Any], bool]] = [
        (MASKED_PAGE, {"first": 0}, True),  # an empty page: nothing masked
        (MASKED_PAGE, {"first": 3}, True),
        (MASKED_RECORD, {"id": inside, "first": 0}, payments),
        (MASKED_RECORD, {"id": named, "first": 2}, payments),
        (MASKED_LISTS, {"status": []}, payments and outlook),  # empty lists of invoices
        (MASKED_LISTS, {"status": None}, payments and outlook),
    ]
    answers = {}
    for query, variables, compiles in asked:
        before = _outcomes()
        per_field, answer = await _same(paths, role, query, variables, compiled=compiles)
        after = _outcomes()
        if compiles:  # the pipeline's answer (it proved the plan) or the short path's
            one_statement = (
                after["compiled"] + after["short"] - before["compiled"] - before["short"]
            )
            assert one_statement >= 1, (query, variables)
            assert after["fallback"] == before["fallback"], (query, variables)
        assert _masked(answer) == _masked(per_field)
        answers[query, repr(variables)] = _masked(answer)
    page = answers[MASKED_PAGE, repr({"first": 3})]
    assert answers[MASKED_PAGE, repr({"first": 0})] == []
    if role is Role.PARTNER:  # the test is not hollow: what the rows decide shows
        assert page == [
            "projects.edges.node.eac",
            "projects.edges.node.margin",
            "projects.edges.node.unbilledWip",
            "projects.nodes.budgetBurn",
            "projects.nodes.c",
            "projects.nodes.cost",
            "projects.nodes.margin",
        ]
        record = answers[MASKED_RECORD, repr({"id": inside, "first": 0})]
        assert not any(p.startswith(("account.parent.", "account.projects.")) for p in record)
        assert "account.invoices.payments.amount" in record
        assert not any(
            p.startswith("account.children.")
            for p in answers[MASKED_RECORD, repr({"id": named, "first": 2})]
        )
        assert answers[MASKED_LISTS, repr({"status": []})] == [
            "accounts.nodes.engagements.projects.outlook"
        ]
    if role is Role.DELIVERY:  # sees budgetBurn and percentComplete, not the money
        assert "projects.nodes.budgetBurn" not in page and "projects.nodes.c" in page
        record = answers[MASKED_RECORD, repr({"id": inside, "first": 0})]
        assert "account.parent.projects.margin" in record
        assert (
            "account.children.projects.margin"
            in answers[MASKED_RECORD, repr({"id": named, "first": 2})]
        )


async def test_a_kept_answer_keeps_its_masked_paths(paths: TwoPaths) -> None:
    """The response cache serves a compiled answer with the masked paths it was read with."""

    def hits() -> float:
        found = REGISTRY.get_sample_value(
            "clientgraph_cache_lookups_total", {"cache": "response", "result": "hit"}
        )
        return found or 0.0

    for role in (Role.PARTNER, Role.DELIVERY):
        for variables in ({"first": 3}, {"first": 0}):
            first = await paths.compiled[role].post(
                "/graphql", json={"query": MASKED_PAGE, "variables": variables}
            )
            before = hits()
            per_field, again = await _same(paths, role, MASKED_PAGE, variables, compiled=True)
            assert hits() == before + 1  # the short path's: the first request proved the plan
            assert again.body == ordered(first.text)
            assert _masked(again) == _masked(per_field)
            assert bool(_masked(again)) is (variables["first"] > 0)
