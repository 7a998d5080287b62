"""Inputs of the handoff mutations and of the ``handoffs`` exception queue."""

from __future__ import annotations

from datetime import date

import strawberry

from readmodel.enums import BillingMethod
from readmodel.tables import HandoffStatus
from schema.commands.inputs import KEY, MoneyInput
from schema.enums import BillingMethod as _RegisteredMethod  # noqa: F401
from schema.handoffs.enums import HandoffStatus as _RegisteredStatus  # noqa: F401

DATE = "ISO date, YYYY-MM-DD."


@strawberry.input(description="A billing milestone of the statement of work.")
class HandoffMilestoneInput:
    name: str
    due_date: date = strawberry.field(description=DATE)
    amount: MoneyInput = strawberry.field(description="In the deal's currency, ≥ 0.")


@strawberry.input(
    description="Data the systems of record lack for a handoff; given fields replace what "
    "the engagement or the opportunity says."
)
class HandoffDataInput:
    billing_method: BillingMethod | None = None
    start_date: date | None = strawberry.field(default=None, description=DATE)
    manager_name: str | None = strawberry.field(default=None, description="The project manager.")
    service_line: str | None = strawberry.field(
        default=None, description="Overrides the opportunity's service line (picks the template)."
    )
    milestones: list[HandoffMilestoneInput] | None = strawberry.field(
        default=None, description="Milestone billing: amounts must add up to the sold value."
    )


@strawberry.input(description="Resume a waiting, halted or failed handoff.")
class ResumeHandoffInput:
    handoff_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY)
    data: HandoffDataInput | None = strawberry.field(
        default=None, description="What was missing (omit when it was fixed at the source)."
    )


@strawberry.input(description="Run a failed step of a handoff again.")
class RetryHandoffStepInput:
    handoff_id: strawberry.ID
    step: str = strawberry.field(description="The step's name, e.g. create_project.")
    idempotency_key: str = strawberry.field(description=KEY)


@strawberry.input(description="Stop a handoff.")
class CancelHandoffInput:
    handoff_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY)


@strawberry.input(description="Which handoffs to list.")
class HandoffFilter:
    status: list[HandoffStatus] | None = strawberry.field(
        default=None, description="Default: the exception queue (WAITING_FOR_DATA, FAILED, HALTED)."
    )
