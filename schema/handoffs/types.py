"""``Handoff``: a won deal on its way to a delivery project, step by step."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from readmodel.tables import HandoffStatus, StepStatus
from resolvers.commands.queries import visible as command_visible
from resolvers.context import context_of
from resolvers.handoffs.loaders import loaders_of
from resolvers.handoffs.queries import to_handoff_id
from schema.commands.types import Command
from schema.common.types import Node, SourceRef, one
from schema.handoffs.enums import HandoffStatus as _RegisteredStatus  # noqa: F401
from schema.handoffs.enums import HandoffStepName, HandoffTrigger
from schema.handoffs.enums import HandoffStepStatus as _RegisteredStep  # noqa: F401

if TYPE_CHECKING:
    from schema.crm.types import Opportunity
    from schema.delivery.types import Project


@strawberry.type(description="Why a step or a handoff stopped, in the source's own words.")
class HandoffError:
    code: str = strawberry.field(description="e.g. DUPLICATE_SUSPECTED, or the source's code.")
    message: str


@strawberry.type(description="Something the handoff needs, and who owns fixing it.")
class HandoffIssue:
    field: str = strawberry.field(description="e.g. startDate, billingMethod, milestones.")
    message: str
    owner: str = strawberry.field(description="The team (and person) expected to fix it.")


def _error(code: str | None, message: str | None) -> HandoffError | None:
    return None if code is None else HandoffError(code=code, message=message or "")


@strawberry.type(description="One step of a handoff; each attempt runs one command.")
class HandoffStep:
    name: HandoffStepName = strawberry.field(description="ensure_customer, create_project, …")
    status: StepStatus
    attempt: int = strawberry.field(description="1, then one more per retryHandoffStep.")
    started_at: datetime | None
    completed_at: datetime | None
    error: HandoffError | None = strawberry.field(description="Why it failed, if it did.")
    command_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Any) -> HandoffStep:
        return cls(
            name=HandoffStepName(row.name),
            status=StepStatus(row.status),
            attempt=row.attempt,
            started_at=row.started_at,
            completed_at=row.completed_at,
            error=_error(row.error_code, row.error_message),
            command_id=row.command_id,
        )

    @strawberry.field(description="The command of the current attempt (null before it starts).")
    async def command(self, info: strawberry.Info) -> Command | None:
        if self.command_id is None:
            return None
        ctx = context_of(info)
        row = await loaders_of(ctx).command_by_id.load(self.command_id)
        if row is None or not command_visible(ctx, row):  # operators see every command
            return None
        return Command.from_row(row)


@strawberry.type(
    description="The handoff of a won opportunity to delivery (issue 5). A Node for the roles "
    "that may use the `handoff` field (null from node(id:) for others)."
)
class Handoff(Node):
    id: strawberry.ID = strawberry.field(description="Global, opaque id.")
    status: HandoffStatus
    readiness_score: int = strawberry.field(description="Share of readiness checks passed, 0–100.")
    missing: list[str] = strawberry.field(description="What to fix, each with its owner.")
    issues: list[HandoffIssue] = strawberry.field(description="`missing`, as fields.")
    trigger: HandoffTrigger = strawberry.field(
        description="How the win was seen: sync or mutation."
    )
    manual_intervention: bool = strawberry.field(
        description="True once an exception was raised or an operator acted on it."
    )
    customer_source_id: str | None = strawberry.field(description="The ERP customer's id.")
    project_source_id: str | None = strawberry.field(description="The project's id in the PSA.")
    error: HandoffError | None
    won_at: datetime | None = strawberry.field(description="When the win was seen.")
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> Handoff:
        issues = [HandoffIssue(**m) for m in json.loads(row.missing)]
        return cls(
            id=strawberry.ID(to_handoff_id(row.id)),
            status=HandoffStatus(row.status),
            readiness_score=row.readiness_score,
            missing=[f"{i.field}: {i.message} (owner: {i.owner})" for i in issues],
            issues=issues,
            trigger=HandoffTrigger(row.trigger),
            manual_intervention=row.manual_intervention,
            customer_source_id=row.customer_source_id,
            project_source_id=row.project_source_id,
            error=_error(row.error_code, row.error_message),
            won_at=row.won_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            completed_at=row.completed_at,
            row=row,
        )

    @strawberry.field(
        description="Empty: a handoff is clientgraph's own record (its customer and project "
        "are named by customerSourceId and projectSourceId)."
    )
    def source_refs(self) -> list[SourceRef]:
        return []

    @strawberry.field(description="The steps in order, with their state.")
    async def steps(self, info: strawberry.Info) -> list[HandoffStep]:
        rows = await loaders_of(context_of(info)).steps_by_handoff.load(self.row.id)
        return [HandoffStep.from_row(r) for r in rows]

    @strawberry.field(
        description="The project the handoff created or linked, once its create_project "
        "step succeeded and the project is in the read model."
    )
    async def project(
        self, info: strawberry.Info
    ) -> Annotated[Project, strawberry.lazy("schema.delivery.types")] | None:
        from schema.delivery.types import Project

        row = await loaders_of(context_of(info)).project_by_handoff.load(self.row.id)
        return None if row is None else Project.from_row(row)

    @strawberry.field(description="The won deal.")
    async def opportunity(
        self, info: strawberry.Info
    ) -> Annotated[Opportunity, strawberry.lazy("schema.crm.types")] | None:
        from schema.crm.types import Opportunity

        return await one(info, "opportunity_by_id", self.row.opportunity_id, Opportunity.from_row)


@strawberry.type(
    description="Handoffs completed in the period. Setup cycle time = project activated − "
    "opportunity won; without intervention = completed with no exception raised ÷ completed."
)
class HandoffKpis:
    completed: int
    without_intervention: int
    share_without_intervention: float | None = strawberry.field(
        description="withoutIntervention ÷ completed (null when none completed)."
    )
    average_setup_cycle_hours: float | None = strawberry.field(
        description="Mean of (project activated − won), hours."
    )
    median_setup_cycle_hours: float | None

    @classmethod
    def from_figures(cls, k: Any) -> HandoffKpis:
        cycles = sorted(k.cycle_hours)
        middle = len(cycles) // 2
        median = None
        if cycles:
            median = (
                cycles[middle] if len(cycles) % 2 else (cycles[middle - 1] + cycles[middle]) / 2
            )
        return cls(
            completed=k.completed,
            without_intervention=k.without_intervention,
            share_without_intervention=round(k.without_intervention / k.completed, 4)
            if k.completed
            else None,
            average_setup_cycle_hours=round(sum(cycles) / len(cycles), 2) if cycles else None,
            median_setup_cycle_hours=None if median is None else round(median, 2),
        )
