"""Every query of the schema, fuzzed over HTTP as admin, delivery and a partner."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import Target, fuzz_settings
from tests.fuzz.send import send_drawn
from tests.fuzz.strategies import root_fields

# Root fields by what they read: one record by id, pages of records, the firm and operations.
GROUPS = {
    "by id": (
        "node",
        "nodes",
        "account",
        "opportunity",
        "engagement",
        "project",
        "invoice",
        "command",
        "handoff",
    ),
    "pages": (
        "accounts",
        "projects",
        "invoices",
        "commands",
        "handoffs",
        "contacts",
        "opportunities",
        "engagements",
        "milestones",
    ),
    "firm": (
        "integrationExceptions",
        "auditLog",
        "portfolio",
        "freshness",
        "billingDelays",
        "timeAnomalies",
        "forecast",
    ),
}


def test_the_groups_cover_every_query() -> None:
    assert sorted(f for fields in GROUPS.values() for f in fields) == sorted(root_fields("query"))


async def _ask(target: Target, caller: str, group: str, data: st.DataObject) -> None:
    await send_drawn(target, caller, "query", GROUPS[group], data)


@pytest.mark.parametrize("group", GROUPS)
@fuzz_settings(20)
@given(data=st.data())
async def test_any_query_as_admin_gets_a_clean_answer(
    read_target: Target, group: str, data: st.DataObject
) -> None:
    await _ask(read_target, "admin", group, data)


@pytest.mark.parametrize("caller", ["delivery", "partner"])
@pytest.mark.parametrize("group", GROUPS)
@fuzz_settings(8)
@given(data=st.data())
async def test_any_query_as_a_narrower_caller_gets_a_clean_answer(
    read_target: Target, group: str, caller: str, data: st.DataObject
) -> None:
    await _ask(read_target, caller, group, data)
