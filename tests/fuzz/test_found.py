"""What the fuzz run found, kept as fixed cases: each was an INTERNAL_SERVER_ERROR (a
database error reaching the client as an internal error) until it was fixed."""

from __future__ import annotations

import base64

import pytest

from tests.fuzz.checks import assert_http_answer
from tests.fuzz.conftest import Target


def b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


RESULT = "{ __typename ... on CommandRejected { code } }"
FOUND = {
    # PostgreSQL's text cannot hold NUL: the statement failed
    "NUL in an idempotency key": (
        f'mutation {{ updateOpportunity(input: {{opportunityId: "{b64("Opportunity:1")}", '
        f'idempotencyKey: "\\u0000"}}) {RESULT} }}'
    ),
    "NUL in filter text": '{ accounts(filter: {nameContains: "a\\u0000"}) { totalCount } }',
    "NUL in a list filter": '{ accounts(filter: {industry: ["\\u0000"]}) { totalCount } }',
    "NUL in the audit filter": '{ auditLog(filter: {actorId: "\\u0000"}) { totalCount } }',
    # a mutation's id past BIGINT reached the database
    "a mutation's id past BIGINT": (
        f'mutation {{ submitChangeOrder(input: {{projectId: "{b64(f"Project:{2**63}")}", '
        f'reason: "r", idempotencyKey: "k"}}) {RESULT} }}'
    ),
}


@pytest.mark.parametrize("document", FOUND.values(), ids=FOUND.keys())
async def test_what_the_fuzz_run_found_stays_fixed(write_target: Target, document: str) -> None:
    response = await write_target.client.post(
        "/graphql", json={"query": document}, headers=write_target.headers("admin")
    )
    assert_http_answer(response.status_code, response.text, response.json())
    body = response.json()
    codes = [e["extensions"]["code"] for e in body.get("errors", [])]
    rejected = [v.get("code") for v in (body.get("data") or {}).values() if isinstance(v, dict)]
    assert codes == ["BAD_USER_INPUT"] or rejected == ["VALIDATION_FAILED"], response.text
