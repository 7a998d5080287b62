"""Every mutation of the schema, fuzzed over HTTP on a firm of its own (they write commands),
as admin (may run each), delivery (some refused) and a partner (all refused)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import Target, fuzz_settings
from tests.fuzz.send import send_drawn
from tests.fuzz.strategies import root_fields

GROUPS = {
    "deals": ("updateOpportunity", "markOpportunityWon", "submitChangeOrder", "issueInvoice"),
    "delivery": ("logTime", "approveTimeEntries", "completeMilestone"),
    "operators": (
        "retryCommand",
        "cancelCommand",
        "resumeHandoff",
        "retryHandoffStep",
        "cancelHandoff",
    ),
    "identities": ("linkIdentity", "createIdentityAccount", "ignoreIdentity"),
}


def test_the_groups_cover_every_mutation() -> None:
    assert sorted(f for fs in GROUPS.values() for f in fs) == sorted(root_fields("mutation"))


async def _send(target: Target, caller: str, group: str, data: st.DataObject) -> None:
    await send_drawn(target, caller, "mutation", GROUPS[group], data)


@pytest.mark.parametrize("group", GROUPS)
@fuzz_settings(15)
@given(data=st.data())
async def test_any_mutation_as_admin_gets_a_clean_answer(
    write_target: Target, group: str, data: st.DataObject
) -> None:
    await _send(write_target, "admin", group, data)


@pytest.mark.parametrize("caller", ["delivery", "partner"])
@fuzz_settings(6)
@given(data=st.data())
async def test_any_mutation_as_a_narrower_caller_gets_a_clean_answer(
    write_target: Target, caller: str, data: st.DataObject
) -> None:
    group = data.draw(st.sampled_from(sorted(GROUPS)), label="group")
    await _send(write_target, caller, group, data)
