"""``Opportunity.readiness``: what delivery will miss, while the deal is still open."""

from __future__ import annotations

from typing import Any

import strawberry

from resolvers.context import context_of
from resolvers.forecasts.readiness import readiness_loader
from schema.handoffs.types import HandoffIssue
from sync_jobs.handoff.readiness import CHECKS


@strawberry.type(
    description="The handoff's readiness checks applied to an open deal (docs/handoff.md, "
    "'Readiness'): what would hold its handoff in WAITING_FOR_DATA if it were won now."
)
class DealReadiness:
    checks: int = strawberry.field(description="How many checks there are (7).")
    passed: int = strawberry.field(description="How many pass.")
    score: int = strawberry.field(description="round(100 × passed ÷ checks), 0–100.")
    ready: bool = strawberry.field(description="True when every check passes.")
    issues: list[HandoffIssue] = strawberry.field(
        description="Each failed check: the field, what is wrong and who owns fixing it."
    )


async def deal_readiness(info: strawberry.Info, row: Any) -> DealReadiness | None:
    """Null for a closed deal: a won one has its handoff (``Opportunity.handoff``)."""
    if row.is_closed:
        return None
    found = await readiness_loader(context_of(info)).load(row.id)
    if found is None:
        return None
    issues = [HandoffIssue(field=m.field, message=m.message, owner=m.owner) for m in found.missing]
    return DealReadiness(
        checks=CHECKS,
        passed=found.passed,
        score=found.score,
        ready=found.ready,
        issues=issues,
    )
