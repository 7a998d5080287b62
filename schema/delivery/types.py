"""Delivery: engagements (contracts), projects, their milestones, staffing and time."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from readmodel.money import hours_to_decimal
from readmodel.reads.time_entries import TIME_ENTRIES_PER_PROJECT, TimeEntryQuery
from resolvers.context import context_of
from resolvers.errors import BadUserInput
from resolvers.ids import to_global_id
from resolvers.inputs import date_range, values
from schema.common.types import (
    NESTED_FIRST,
    After,
    First,
    Money,
    Node,
    many,
    money,
    money_of,
    one,
    ratio,
)
from schema.delivery.enums import TimeEntryStatus
from schema.enums import BillingMethod, EngagementStatus, MilestoneStatus, ProjectStatus

if TYPE_CHECKING:
    from schema.crm.types import Account, Opportunity
    from schema.delivery.staffing import Assignment, TimeEntry
    from schema.finance.types import Invoice
    from schema.forecasts.outlook import ProjectOutlook

AccountT = Annotated["Account", strawberry.lazy("schema.crm.types")]
OpportunityT = Annotated["Opportunity", strawberry.lazy("schema.crm.types")]
InvoiceT = Annotated["Invoice", strawberry.lazy("schema.finance.types")]
AssignmentT = Annotated["Assignment", strawberry.lazy("schema.delivery.staffing")]
TimeEntryT = Annotated["TimeEntry", strawberry.lazy("schema.delivery.staffing")]
ProjectOutlookT = Annotated["ProjectOutlook", strawberry.lazy("schema.forecasts.outlook")]


async def _account(info: strawberry.Info, account_id: int) -> Account | None:
    from schema.crm.types import Account

    return await one(info, "account_by_id", account_id, Account.from_row)


@strawberry.federation.type(
    keys=["id"], description="A contract or statement of work with a client."
)
class Engagement(Node):
    name: str
    status: EngagementStatus
    billing_method: BillingMethod
    sold_value: Money
    start_date: date
    end_date: date | None
    signed_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> Engagement:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Engagement", row.id)),
            name=row.name,
            status=EngagementStatus(row.status),
            billing_method=BillingMethod(row.billing_method),
            sold_value=money(row.sold_value_minor, row.currency),
            start_date=row.start_date,
            end_date=row.end_date,
            signed_at=row.signed_at,
        )

    @strawberry.field
    async def account(self, info: strawberry.Info) -> AccountT | None:
        return await _account(info, self.row.account_id)

    @strawberry.field(description="The won deal this contract came from, if any.")
    async def opportunity(self, info: strawberry.Info) -> OpportunityT | None:
        from schema.crm.types import Opportunity

        return await one(info, "opportunity_by_id", self.row.opportunity_id, Opportunity.from_row)

    @strawberry.field
    async def projects(
        self, info: strawberry.Info, first: First = NESTED_FIRST, after: After = None
    ) -> list[Project]:
        return await many(
            info, "projects_by_engagement", self.row.id, Project.from_row, first, after=after
        )

    @strawberry.field(description="Σ billed on this engagement's projects.")
    async def billed_to_date(self, info: strawberry.Info) -> Money:
        figures = await context_of(info).loaders.engagement_figures.load(self.row.id)
        return money_of(figures.billed_to_date)

    @strawberry.field(description="Sold value − value delivered so far (never below zero).")
    async def backlog(self, info: strawberry.Info) -> Money:
        figures = await context_of(info).loaders.engagement_figures.load(self.row.id)
        return money_of(figures.backlog)

    @strawberry.field(description="Value delivered (recognized) so far on its projects.")
    async def delivered(self, info: strawberry.Info) -> Money:
        figures = await context_of(info).loaders.engagement_figures.load(self.row.id)
        return money_of(figures.delivered)


@strawberry.federation.type(
    keys=["id"], description="A delivery project, with its budget and financial figures."
)
class Project(Node):
    code: str
    name: str
    status: ProjectStatus
    billing_method: BillingMethod
    budget: Money
    budget_hours: Decimal
    start_date: date
    end_date: date | None
    manager_name: str | None
    activated_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> Project:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Project", row.id)),
            code=row.code,
            name=row.name,
            status=ProjectStatus(row.status),
            billing_method=BillingMethod(row.billing_method),
            budget=money(row.budget_minor, row.currency),
            budget_hours=hours_to_decimal(row.budget_hours_x100),
            start_date=row.start_date,
            end_date=row.end_date,
            manager_name=row.manager_name,
            activated_at=row.activated_at,
        )

    async def _figures(self, info: strawberry.Info) -> Any:
        return await context_of(info).loaders.project_figures.load(self.row.id)

    @strawberry.field
    async def account(self, info: strawberry.Info) -> AccountT | None:
        return await _account(info, self.row.account_id)

    @strawberry.field
    async def engagement(self, info: strawberry.Info) -> Engagement | None:
        return await one(info, "engagement_by_id", self.row.engagement_id, Engagement.from_row)

    @strawberry.field
    async def milestones(
        self, info: strawberry.Info, first: First = NESTED_FIRST, after: After = None
    ) -> list[Milestone]:
        return await many(
            info, "milestones_by_project", self.row.id, Milestone.from_row, first, after=after
        )

    @strawberry.field(description="Who is staffed on this project, by start date.")
    async def team(self, info: strawberry.Info, first: First = NESTED_FIRST) -> list[AssignmentT]:
        from schema.delivery.staffing import Assignment

        return await many(info, "assignments_by_project", self.row.id, Assignment.from_row, first)

    @strawberry.field(
        description="Time logged on this project, newest first (work date, then id). Bounded: "
        f"at most {TIME_ENTRIES_PER_PROJECT} entries, the newest that match; use from / to "
        "for older time."
    )
    async def time_entries(
        self,
        info: strawberry.Info,
        status: Annotated[
            list[TimeEntryStatus] | None, strawberry.argument(description="Any of these.")
        ] = None,
        from_: Annotated[
            date | None, strawberry.argument(name="from", description="Worked on or after.")
        ] = None,
        to: Annotated[date | None, strawberry.argument(description="Worked on or before.")] = None,
        first: Annotated[
            int,
            strawberry.argument(
                description=f"At most this many (0 to {TIME_ENTRIES_PER_PROJECT})."
            ),
        ] = TIME_ENTRIES_PER_PROJECT,
    ) -> list[TimeEntryT]:
        from schema.delivery.staffing import TimeEntry

        if not 0 <= first <= TIME_ENTRIES_PER_PROJECT:
            message = f"first must be 0 to {TIME_ENTRIES_PER_PROJECT}"
            raise BadUserInput(message, argument="first")
        query = _time_entry_query(status, from_, to)
        loader = context_of(info).loaders.time_entries_by_project(query, first)
        rows = await loader.load(self.row.id)
        return [TimeEntry.from_row(row) for row in rows]

    @strawberry.field
    async def invoices(
        self, info: strawberry.Info, first: First = NESTED_FIRST, after: After = None
    ) -> list[InvoiceT]:
        from schema.finance.types import Invoice

        return await many(
            info, "invoices_by_project", self.row.id, Invoice.from_row, first, after=after
        )

    @strawberry.field(description="Hours logged (every entry not rejected).")
    async def hours_logged(self, info: strawberry.Info) -> Decimal:
        return (await self._figures(info)).hours_logged

    @strawberry.field(description="Σ hours × cost rate of the time logged.")
    async def cost_to_date(self, info: strawberry.Info) -> Money | None:
        return money_of((await self._figures(info)).cost_to_date)

    @strawberry.field(description="Cost to date ÷ budget (a fraction; 1.0 = fully spent).")
    async def budget_burn(self, info: strawberry.Info) -> float | None:
        return ratio((await self._figures(info)).budget_burn)

    @strawberry.field(description="Estimate at completion: cost to date + estimate to complete.")
    async def eac(self, info: strawberry.Info) -> Money | None:
        return money_of((await self._figures(info)).eac)

    @strawberry.field(description="Cost-to-cost progress: cost to date ÷ EAC (a fraction).")
    async def percent_complete(self, info: strawberry.Info) -> float | None:
        return ratio((await self._figures(info)).percent_complete)

    @strawberry.field(description="Value delivered so far (method-specific; docs/formulas.md).")
    async def recognized_revenue(self, info: strawberry.Info) -> Money:
        return money_of((await self._figures(info)).recognized_revenue)

    @strawberry.field(description="Approved billable work not yet invoiced.")
    async def unbilled_wip(self, info: strawberry.Info) -> Money | None:
        return money_of((await self._figures(info)).unbilled_wip)

    @strawberry.field(description="Σ totals of posted, partially paid and paid invoices.")
    async def billed(self, info: strawberry.Info) -> Money:
        return money_of((await self._figures(info)).billed)

    @strawberry.field(description="Σ payments received on those invoices.")
    async def collected(self, info: strawberry.Info) -> Money:
        return money_of((await self._figures(info)).collected)

    @strawberry.field(description="(Recognized revenue − cost to date) ÷ recognized revenue.")
    async def margin(self, info: strawberry.Info) -> float | None:
        return ratio((await self._figures(info)).margin)

    @strawberry.field(
        description="Where it is heading: estimates at completion (the team's, the recent "
        "trend's), the overrun band, margin at completion, explained."
    )
    async def outlook(self, info: strawberry.Info) -> ProjectOutlookT | None:
        from schema.forecasts.outlook import project_outlook

        return await project_outlook(info, self.row)


@strawberry.type
class Milestone(Node):
    name: str
    due_date: date
    completed_at: datetime | None
    amount: Money
    status: MilestoneStatus

    @classmethod
    def from_row(cls, row: Any) -> Milestone:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Milestone", row.id)),
            name=row.name,
            due_date=row.due_date,
            completed_at=row.completed_at,
            amount=money(row.amount_minor, row.currency),
            status=MilestoneStatus(row.status),
        )

    @strawberry.field(description="Past its due date and still planned.")
    def is_slipped(self, info: strawberry.Info) -> bool:
        return self.status is MilestoneStatus.PLANNED and self.due_date < context_of(info).today

    @strawberry.field
    async def project(self, info: strawberry.Info) -> Project | None:
        return await one(info, "project_by_id", self.row.project_id, Project.from_row)


def _time_entry_query(
    status: list[TimeEntryStatus] | None, from_: date | None, to: date | None
) -> TimeEntryQuery:
    date_range(from_, to, "from")
    return TimeEntryQuery(statuses=values(status, "status"), work_from=from_, work_to=to)
