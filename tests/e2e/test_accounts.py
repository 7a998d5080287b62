"""The accounts collection and the unified client view, through GraphQL over HTTP."""

from __future__ import annotations

from decimal import Decimal

import httpx
from sqlalchemy import func, select

from readmodel.tables import Account
from tests.conftest import Firm, error_codes, graphql

PAGE = """
query Page($first: Int, $after: String, $filter: AccountFilter, $orderBy: AccountOrder) {
  accounts(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name currency industry status } }
  }
}
"""


async def _all_pages(client: httpx.AsyncClient, **variables: object) -> list[dict]:
    names, after = [], None
    while True:
        body = await graphql(client, PAGE, {**variables, "after": after})
        assert "errors" not in body, body
        page = body["data"]["accounts"]
        names += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return names
        after = page["pageInfo"]["endCursor"]


async def test_paging_walks_every_account_once_in_name_order(
    client: httpx.AsyncClient, firm: Firm
) -> None:
    async with firm.engine.connect() as conn:
        expected = (await conn.execute(select(func.count()).select_from(Account))).scalar_one()

    nodes = await _all_pages(client, first=7)

    assert len(nodes) == expected
    assert len({n["id"] for n in nodes}) == expected
    keys = [(n["name"], n["id"]) for n in nodes]
    assert [k[0] for k in keys] == sorted(k[0] for k in keys)


async def test_descending_order_reverses_the_list(client: httpx.AsyncClient) -> None:
    ascending = await _all_pages(client, first=25)
    descending = await _all_pages(client, first=25, orderBy={"field": "NAME", "direction": "DESC"})
    assert [n["name"] for n in descending] == [n["name"] for n in reversed(ascending)]


async def test_page_info_and_total_count(client: httpx.AsyncClient) -> None:
    first = (await graphql(client, PAGE, {"first": 5}))["data"]["accounts"]
    assert len(first["edges"]) == 5
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False
    assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]
    second = await graphql(client, PAGE, {"first": 5, "after": first["pageInfo"]["endCursor"]})
    page2 = second["data"]["accounts"]
    assert page2["pageInfo"]["hasPreviousPage"] is True
    assert page2["totalCount"] == first["totalCount"]
    assert {e["node"]["id"] for e in page2["edges"]}.isdisjoint(
        {e["node"]["id"] for e in first["edges"]}
    )


async def test_filters_combine(client: httpx.AsyncClient) -> None:
    everyone = await _all_pages(client, first=100)
    eur_active = await _all_pages(
        client, first=100, filter={"currency": "EUR", "status": ["ACTIVE"]}
    )
    assert eur_active, "the seeded firm has active EUR clients"
    assert all(n["currency"] == "EUR" and n["status"] == "ACTIVE" for n in eur_active)
    assert len(eur_active) == sum(
        1 for n in everyone if n["currency"] == "EUR" and n["status"] == "ACTIVE"
    )
    word = everyone[0]["name"].split()[0].lower()
    matching = await _all_pages(client, first=100, filter={"nameContains": word.upper()})
    assert matching and all(word in n["name"].lower() for n in matching)


async def test_hierarchy_parent_and_children_agree(client: httpx.AsyncClient) -> None:
    query = """
    { accounts(first: 100, filter: {topLevel: false}) {
        nodes { id parent { id children { id } } } } }
    """
    body = await graphql(client, query)
    children = body["data"]["accounts"]["nodes"]
    assert children, "the seeded firm has subsidiaries"
    for child in children:
        assert child["id"] in {c["id"] for c in child["parent"]["children"]}


UNIFIED = """
query View($id: ID!) {
  account(id: $id) {
    id name currency
    sourceRefs { system objectType sourceId version syncedAt }
    engagements {
      soldValue { amount currency } billedToDate { amount currency } backlog { amount }
      projects { id code billed { amount currency } collected { amount } milestones { id } }
    }
    invoices { total { amount currency } balance { amount } status
               payments { amount { amount currency } } }
    health { score status asOf factors { name value weight penalty explanation } }
  }
}
"""


async def test_unified_client_view_is_coherent(client: httpx.AsyncClient) -> None:
    listing = await graphql(
        client, "{ accounts(first: 100, filter: {status: [ACTIVE]}) { nodes { id } } }"
    )
    for node in listing["data"]["accounts"]["nodes"][:10]:
        body = await graphql(client, UNIFIED, {"id": node["id"]})
        assert "errors" not in body, body
        account = body["data"]["account"]
        systems = {ref["system"] for ref in account["sourceRefs"]}
        assert "salesforce" in systems
        for invoice in account["invoices"]:
            assert invoice["total"]["currency"] == account["currency"]
            paid = sum(Decimal(p["amount"]["amount"]) for p in invoice["payments"])
            if invoice["status"] in {"POSTED", "PARTIALLY_PAID", "PAID"}:
                assert Decimal(invoice["balance"]["amount"]) == (
                    Decimal(invoice["total"]["amount"]) - paid
                )
        health = account["health"]
        assert 0 <= health["score"] <= 100
        penalties = sum(Decimal(f["penalty"]) for f in health["factors"])
        assert abs(Decimal(100) - penalties - health["score"]) <= Decimal("0.5")
        assert sum(f["weight"] for f in health["factors"]) == 100
        assert health["asOf"] is not None


async def test_node_returns_every_kind(client: httpx.AsyncClient) -> None:
    body = await graphql(
        client,
        """
    { accounts(first: 20, filter: {status: [ACTIVE]}) { nodes { id
        contacts { id } opportunities { id } engagements { id projects { id milestones { id } } }
        invoices { id payments { id } } } } }
    """,
    )
    ids: dict[str, str] = {}
    for account in body["data"]["accounts"]["nodes"]:
        ids.setdefault("Account", account["id"])
        for field, kind in (
            ("contacts", "Contact"),
            ("opportunities", "Opportunity"),
            ("engagements", "Engagement"),
            ("invoices", "Invoice"),
        ):
            if account[field]:
                ids.setdefault(kind, account[field][0]["id"])
        for engagement in account["engagements"]:
            for project in engagement["projects"]:
                ids.setdefault("Project", project["id"])
                if project["milestones"]:
                    ids.setdefault("Milestone", project["milestones"][0]["id"])
        for invoice in account["invoices"]:
            if invoice["payments"]:
                ids.setdefault("Payment", invoice["payments"][0]["id"])
    assert set(ids) == {
        "Account",
        "Contact",
        "Opportunity",
        "Engagement",
        "Project",
        "Milestone",
        "Invoice",
        "Payment",
    }
    for kind, gid in ids.items():
        found = await graphql(
            client,
            "query($id: ID!) { node(id: $id) { __typename id sourceRefs { system sourceId } } }",
            {"id": gid},
        )
        assert found["data"]["node"]["__typename"] == kind
        assert found["data"]["node"]["id"] == gid
        assert found["data"]["node"]["sourceRefs"][0]["sourceId"]


async def test_unknown_account_is_not_found(client: httpx.AsyncClient) -> None:
    from resolvers.ids import to_global_id

    body = await graphql(
        client,
        "query($id: ID!) { account(id: $id) { id } }",
        {"id": to_global_id("Account", 999_999)},
    )
    assert body["data"] == {"account": None}
    assert error_codes(body) == ["NOT_FOUND"]
