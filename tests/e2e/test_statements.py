"""N+1 guard: statements per request depend on the query's shape, not on the data's size."""

from __future__ import annotations

from readmodel.db import count_statements
from tests.conftest import Firm, graphql, http_client, running_app

DEEP = """
query($first: Int) {
  accounts(first: $first, filter: {topLevel: false}) {
    nodes {
      name sourceRefs { sourceId }
      parent { name } children { name }
      contacts { name } opportunities { name amount { amount } projects { code } }
      engagements { name backlog { amount } billedToDate { amount }
        projects { code budgetBurn percentComplete unbilledWip { amount } margin
          milestones { name isSlipped } } }
      projects { code billed { amount } collected { amount } hoursLogged
        team { role billRate { amount } person { name sourceRefs { sourceId } } }
        timeEntries(status: [SUBMITTED, INVOICED]) { hours status invoice { number } } }
      invoices { number daysOverdue payments { amount { amount } } project { code } }
      health { score status factors { name penalty } }
    }
  }
}
"""


async def _statements_for(firm: Firm, first: int) -> tuple[int, int]:
    # every nested list at its default size: far over the cost budget, which is not measured here
    async with running_app(firm.url, max_cost=10**12) as app, http_client(app) as client:
        statements = count_statements(app.state.engine)
        body = await graphql(client, DEEP, {"first": first})
    assert "errors" not in body, body
    nodes = body["data"]["accounts"]["nodes"]
    assert len(nodes) == first
    _every_relation_is_present(nodes)
    # the app's own background work (the command relay's sweep every few seconds) may land
    # inside the request on a loaded machine: it reads only the command log, which DEEP does not
    theirs = [s for s in statements if not _reads_the_command_log(s)]
    return len(theirs), sum(len(n["invoices"]) + len(n["projects"]) for n in nodes)


def _reads_the_command_log(statement: str) -> bool:
    return "FROM command" in statement  # DEEP reaches commands only by a join (a deal's projects)


def _every_relation_is_present(nodes: list[dict]) -> None:
    """A relation that is empty everywhere skips its statement: that is not what we compare."""
    projects = [p for n in nodes for e in n["engagements"] for p in e["projects"]]
    invoices = [i for n in nodes for i in n["invoices"]]
    assert all(n["parent"] for n in nodes)
    assert any(o["projects"] for n in nodes for o in n["opportunities"])
    assert projects and any(p["milestones"] for p in projects)
    staffed = [p for n in nodes for p in n["projects"]]
    assert any(p["team"] for p in staffed)
    assert any(e["invoice"] for p in staffed for e in p["timeEntries"])
    assert any(i["payments"] for i in invoices) and any(i["project"] for i in invoices)


async def test_same_statements_for_5_and_50_accounts(firm: Firm) -> None:
    small, small_rows = await _statements_for(firm, 5)
    large, large_rows = await _statements_for(firm, 50)
    assert large_rows > 5 * small_rows / 2, "the larger query really returns more rows"
    assert small == large, f"{small} statements for 5 accounts, {large} for 50"
