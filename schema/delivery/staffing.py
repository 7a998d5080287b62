"""People, staffing and time: who can work on projects, who is staffed, what they logged."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from readmodel.money import hours_to_decimal
from resolvers.ids import to_global_id
from schema.common.types import Money, Node, SourceRef, lineage_ref, money, one
from schema.delivery.enums import AssignmentStatus, TimeEntryStatus

if TYPE_CHECKING:
    from schema.delivery.types import Project
    from schema.finance.types import Invoice

ProjectT = Annotated["Project", strawberry.lazy("schema.delivery.types")]
InvoiceT = Annotated["Invoice", strawberry.lazy("schema.finance.types")]


@strawberry.federation.type(
    keys=["id"], description="Someone who can be staffed on projects and log time."
)
class Person(Node):
    name: str
    email: str | None
    role: str = strawberry.field(description="Their default role, e.g. consultant.")
    active: bool = strawberry.field(description="False once they have left the firm.")
    weekly_capacity_hours: Decimal = strawberry.field(
        description="Hours a week they can work; the base of billable utilization."
    )

    @classmethod
    def from_row(cls, row: Any) -> Person:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Person", row.id)),
            name=row.name,
            email=row.email,
            role=row.role,
            active=row.active,
            weekly_capacity_hours=hours_to_decimal(row.weekly_capacity_hours_x100),
        )


@strawberry.type(description="One role staffed on a project, with its schedule and rates.")
class Assignment:
    row: strawberry.Private[Any]
    role: str
    scheduled_hours: Decimal = strawberry.field(description="Hours planned for the whole term.")
    bill_rate: Money | None = strawberry.field(description="Per hour, billed to the client.")
    cost_rate: Money | None = strawberry.field(description="Per hour, the firm's cost.")
    start_date: date
    end_date: date | None
    status: AssignmentStatus

    @classmethod
    def from_row(cls, row: Any) -> Assignment:
        return cls(
            row=row,
            role=row.role,
            scheduled_hours=hours_to_decimal(row.scheduled_hours_x100),
            bill_rate=money(row.bill_rate_minor, row.currency),
            cost_rate=money(row.cost_rate_minor, row.currency),
            start_date=row.start_date,
            end_date=row.end_date,
            status=AssignmentStatus(row.status),
        )

    @strawberry.field(description="Who fills the role; null while it is requested, not staffed.")
    async def person(self, info: strawberry.Info) -> Person | None:
        return await one(info, "person_by_id", self.row.person_id, Person.from_row)


@strawberry.type(description="Hours one person worked on one project on one day.")
class TimeEntry(Node):
    work_date: date
    hours: Decimal = strawberry.field(description='Hours worked, e.g. "7.50".')
    billable: bool = strawberry.field(description="Billable to the client (or internal time).")
    status: TimeEntryStatus
    role: str = strawberry.field(description="The role the time was worked in.")
    bill_rate: Money | None = strawberry.field(
        description="Per hour, as billed when it was recorded."
    )
    submitted_at: datetime | None = strawberry.field(
        description="When it was submitted for approval; null while a draft."
    )

    @classmethod
    def from_row(cls, row: Any) -> TimeEntry:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("TimeEntry", row.id)),
            work_date=row.work_date,
            hours=hours_to_decimal(row.hours_x100),
            billable=row.billable,
            status=TimeEntryStatus(row.status),
            role=row.role,
            bill_rate=money(row.bill_rate_minor, row.currency),
            submitted_at=row.submitted_at,
        )

    @strawberry.field(description="This record's id and version in each system that holds it.")
    def source_refs(self) -> list[SourceRef]:
        return [lineage_ref(self.row, "time_entry")]

    @strawberry.field
    async def person(self, info: strawberry.Info) -> Person | None:
        return await one(info, "person_by_id", self.row.person_id, Person.from_row)

    @strawberry.field
    async def project(self, info: strawberry.Info) -> ProjectT | None:
        from schema.delivery.types import Project

        return await one(info, "project_by_id", self.row.project_id, Project.from_row)

    @strawberry.field(description="The invoice that billed this time, once invoiced.")
    async def invoice(self, info: strawberry.Info) -> InvoiceT | None:
        from schema.finance.types import Invoice

        return await one(info, "invoice_by_id", self.row.invoice_id, Invoice.from_row)
