"""Mutation inputs and the ``commands`` filter.

Dates are ``Date`` and amounts and hours ``Decimal``, the scalars the outputs use (codegen
gives clients real types). A value the scalar cannot parse is refused before anything runs
(``BAD_USER_INPUT`` naming the variable and field; ``GRAPHQL_VALIDATION_FAILED`` for a literal in
the document); one it parses but the domain
refuses (a date in the future, hours off the quarter, too many decimals) is ``CommandRejected``
naming each bad field. ``arguments`` writes them back as ISO / decimal text, the form the
validators, the command log and idempotency comparisons have always used.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from readmodel.command_log import CommandQuery, CommandStatus
from readmodel.enums import OpportunityStage
from resolvers.inputs import values
from schema.commands.enums import CommandKind, CommandTargetSystem
from schema.commands.enums import CommandStatus as _RegisteredStatus  # noqa: F401
from schema.enums import OpportunityStage as _RegisteredStage  # noqa: F401

if TYPE_CHECKING:
    from schema.handoffs.inputs import HandoffDataInput

KEY = "Unique per intended write: sending it again with the same input returns the same "
KEY += "command; with a different input it is refused (IDEMPOTENCY_KEY_REUSED)."
DATE = "ISO date, YYYY-MM-DD."


def arguments(data: Any) -> dict[str, Any]:
    """An input as plain values (enums by value), without its idempotency key."""
    plain = _plain(dataclasses.asdict(data))
    plain.pop("idempotency_key", None)
    return plain


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, date | Decimal):
        return value.isoformat() if isinstance(value, date) else str(value)
    return value.value if isinstance(value, Enum) else value


@strawberry.input(description="An amount of money: a decimal and its currency.")
class MoneyInput:
    amount: Decimal = strawberry.field(description='At most two decimals, e.g. "1200.50".')
    currency: str = strawberry.field(description="ISO 4217 code; must match the record's.")


@strawberry.input(description="Changes to a deal; give at least one of the optional fields.")
class UpdateOpportunityInput:
    opportunity_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY)
    stage: OpportunityStage | None = strawberry.field(
        default=None, description="Any stage but CLOSED_WON (use markOpportunityWon)."
    )
    close_date: date | None = strawberry.field(default=None, description=DATE)
    amount: MoneyInput | None = strawberry.field(default=None, description="≥ 0.")
    probability: int | None = strawberry.field(default=None, description="Percent, 0–100.")


@strawberry.input(description="Win a deal.")
class MarkOpportunityWonInput:
    opportunity_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY)
    close_date: date | None = strawberry.field(default=None, description=DATE + " Default: today.")
    handoff: Annotated[HandoffDataInput, strawberry.lazy("schema.handoffs.inputs")] | None = (
        strawberry.field(
            default=None, description="Data the handoff to delivery needs that the CRM lacks."
        )
    )


@strawberry.input(description="Hours one person worked on one project on one day.")
class LogTimeInput:
    project_id: strawberry.ID
    person_id: strawberry.ID
    work_date: date = strawberry.field(description=DATE)
    hours: Decimal = strawberry.field(description='0.25 to 24, in quarter hours, e.g. "7.5".')
    idempotency_key: str = strawberry.field(description=KEY)
    billable: bool = True
    note: str | None = strawberry.field(default=None, description="At most 1,000 characters.")


@strawberry.input(description="Approve submitted time entries together.")
class ApproveTimeEntriesInput:
    time_entry_ids: list[strawberry.ID] = strawberry.field(description="1 to 100 entries.")
    idempotency_key: str = strawberry.field(description=KEY)


@strawberry.input(description="Mark a planned milestone completed.")
class CompleteMilestoneInput:
    milestone_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY)
    completed_on: date | None = strawberry.field(
        default=None, description=DATE + " Default: today; not in the future."
    )


@strawberry.input(description="Propose a change to a project; at least one non-zero delta.")
class SubmitChangeOrderInput:
    project_id: strawberry.ID
    reason: str = strawberry.field(description="Why; at most 500 characters.")
    idempotency_key: str = strawberry.field(description=KEY)
    budget_delta: MoneyInput | None = strawberry.field(
        default=None, description="In the project's currency; negative to descope."
    )
    hours_delta: Decimal | None = strawberry.field(default=None, description="Quarter hours, ±.")
    days_delta: int | None = strawberry.field(default=None, description="End date shift, ±.")


@strawberry.input(description="Issue an invoice to a project's client.")
class IssueInvoiceInput:
    project_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY)
    amount: MoneyInput | None = strawberry.field(
        default=None, description="≥ 0, in the project's currency. Default: what is billable."
    )
    issue_date: date | None = strawberry.field(default=None, description=DATE + " Default: today.")
    due_date: date | None = strawberry.field(
        default=None, description=DATE + " Default: the client's payment terms."
    )


@strawberry.input(description="An operator's action on one command.")
class CommandActionInput:
    command_id: strawberry.ID
    idempotency_key: str = strawberry.field(description=KEY)


@strawberry.input(description="All given conditions must hold; each list allows any of its values.")
class CommandFilter:
    status: list[CommandStatus] | None = None
    kind: list[CommandKind] | None = strawberry.field(default=None, description="Any of these.")
    target_system: list[CommandTargetSystem] | None = strawberry.field(
        default=None, description="Any of these."
    )

    def to_query(self) -> CommandQuery:
        return CommandQuery(
            statuses=values(self.status, "filter.status"),
            kinds=values(self.kind, "filter.kind"),
            systems=values(self.target_system, "filter.targetSystem"),
        )
