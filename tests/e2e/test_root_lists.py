"""``contacts``, ``opportunities``, ``engagements`` and ``milestones`` sorted by ``orderBy``,
paged through GraphQL over HTTP: ties broken by id, a cursor valid only in its own order."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from readmodel.tables import Contact, Engagement, Milestone, Opportunity
from resolvers.ids import to_global_id
from tests.conftest import Firm, error_codes, graphql

PAGE = 7
LISTS = {  # root list → (its table, an order other than its default, and the column and way)
    "contacts": (Contact, "{field: FIRST_NAME, direction: DESC}", "first_name", True),
    "opportunities": (Opportunity, "{field: NAME}", "name", False),
    "engagements": (Engagement, "{field: START_DATE, direction: DESC}", "start_date", True),
    "milestones": (Milestone, "{field: NAME, direction: DESC}", "name", True),
}


def _query(root: str, order: str) -> str:
    return (
        f"query($after: String) {{ {root}(first: {PAGE}, after: $after, orderBy: {order}) "
        "{ pageInfo { endCursor } nodes { id } } }"
    )


@pytest.mark.parametrize("root", LISTS)
async def test_a_list_walks_in_the_order_asked(
    client: httpx.AsyncClient, firm: Firm, root: str
) -> None:
    model, order, column, descending = LISTS[root]
    query = _query(root, order)
    first = (await graphql(client, query))["data"][root]
    after = first["pageInfo"]["endCursor"]
    second = (await graphql(client, query, {"after": after}))["data"][root]["nodes"]
    default = await graphql(client, f'{{ {root}(first: 1, after: "{after}") {{ totalCount }} }}')
    t = model.__table__  # type: ignore[attr-defined]
    by, tie = (t.c[column].desc(), t.c.id.desc()) if descending else (t.c[column], t.c.id)
    async with firm.engine.connect() as conn:
        rows = await conn.execute(
            select(t.c.id).where(t.c.deleted_at.is_(None)).order_by(by, tie).limit(2 * PAGE)
        )
        expected = [r[0] for r in rows]

    walked = [n["id"] for n in first["nodes"] + second]
    assert len(expected) == 2 * PAGE, "the firm must hold two pages"
    assert walked == [to_global_id(model.__name__, k) for k in expected]
    assert error_codes(default) == ["BAD_USER_INPUT"]  # the cursor belongs to its order
