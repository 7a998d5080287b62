"""The root ``Mutation``: every write becomes a command for the system that owns the data.

Each field answers ``CommandResult``: the accepted ``Command`` (status ACCEPTED, or where a
replay of the same idempotency key has got to), or ``CommandRejected`` when nothing was
logged. The behaviour lives in ``resolvers.commands`` (one module per mutation).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

import strawberry
from sqlalchemy import Row

from resolvers.access import authorize
from resolvers.audit import Audit
from resolvers.commands.approve_time_entries import approve_time_entries
from resolvers.commands.cancel_command import cancel_command
from resolvers.commands.complete_milestone import complete_milestone
from resolvers.commands.errors import CommandRefused
from resolvers.commands.issue_invoice import issue_invoice
from resolvers.commands.log_time import log_time
from resolvers.commands.mark_opportunity_won import mark_opportunity_won
from resolvers.commands.retry_command import retry_command
from resolvers.commands.submit_change_order import submit_change_order
from resolvers.commands.update_opportunity import update_opportunity
from resolvers.context import Context, context_of
from resolvers.errors import Forbidden
from resolvers.handoffs.cancel_handoff import cancel_handoff
from resolvers.handoffs.resume_handoff import resume_handoff
from resolvers.handoffs.retry_handoff_step import retry_handoff_step
from resolvers.identity.create_identity_account import create_identity_account
from resolvers.identity.ignore_identity import ignore_identity
from resolvers.identity.link_identity import link_identity
from schema.commands import inputs
from schema.commands.errors import CommandRejected
from schema.commands.types import Command, CommandResult
from schema.handoffs import inputs as handoff_inputs
from schema.sync import inputs as sync_inputs

INPUT = strawberry.argument(description="What to write; its fields are described on its type.")
Resolver = Callable[[Context, str, Mapping[str, Any]], Awaitable[Row[Any]]]


async def _run(info: strawberry.Info, resolver: Resolver, data: Any) -> CommandResult:
    """Check the caller's role, run the mutation, and audit what came of it (every outcome)."""
    ctx = context_of(info)
    arguments = inputs.arguments(data)
    audit = Audit(ctx, info.field_name, {"idempotencyKey": data.idempotency_key, **arguments})
    try:
        authorize(ctx, "mutation", info.field_name)
    except Forbidden:
        await audit.forbidden()
        raise
    try:
        with audit.calling():
            row = await resolver(ctx, data.idempotency_key, arguments)
    except CommandRefused as refusal:
        await audit.rejected(refusal.code.value)
        return CommandRejected.from_refusal(refusal)
    await audit.accepted(row.id)
    return Command.from_row(row)


@strawberry.type(description="Writes: each becomes a command sent to the system owning the data.")
class Mutation:
    @strawberry.mutation(description="Change a deal's stage, close date, amount or probability.")
    async def update_opportunity(
        self, info: strawberry.Info, input: Annotated[inputs.UpdateOpportunityInput, INPUT]
    ) -> CommandResult:
        return await _run(info, update_opportunity, input)

    @strawberry.mutation(description="Close a deal as won (stage CLOSED_WON, probability 100).")
    async def mark_opportunity_won(
        self, info: strawberry.Info, input: Annotated[inputs.MarkOpportunityWonInput, INPUT]
    ) -> CommandResult:
        return await _run(info, mark_opportunity_won, input)

    @strawberry.mutation(description="Record hours a person worked on a project.")
    async def log_time(
        self, info: strawberry.Info, input: Annotated[inputs.LogTimeInput, INPUT]
    ) -> CommandResult:
        return await _run(info, log_time, input)

    @strawberry.mutation(description="Approve submitted time entries (one command).")
    async def approve_time_entries(
        self, info: strawberry.Info, input: Annotated[inputs.ApproveTimeEntriesInput, INPUT]
    ) -> CommandResult:
        return await _run(info, approve_time_entries, input)

    @strawberry.mutation(description="Mark a planned milestone completed.")
    async def complete_milestone(
        self, info: strawberry.Info, input: Annotated[inputs.CompleteMilestoneInput, INPUT]
    ) -> CommandResult:
        return await _run(info, complete_milestone, input)

    @strawberry.mutation(description="Propose a change to a project's budget, hours or dates.")
    async def submit_change_order(
        self, info: strawberry.Info, input: Annotated[inputs.SubmitChangeOrderInput, INPUT]
    ) -> CommandResult:
        return await _run(info, submit_change_order, input)

    @strawberry.mutation(description="Issue an invoice for a project in the ERP.")
    async def issue_invoice(
        self, info: strawberry.Info, input: Annotated[inputs.IssueInvoiceInput, INPUT]
    ) -> CommandResult:
        return await _run(info, issue_invoice, input)

    @strawberry.mutation(
        description="Operators: send a FAILED or DEAD_LETTERED command again (attempts reset)."
    )
    async def retry_command(
        self, info: strawberry.Info, input: Annotated[inputs.CommandActionInput, INPUT]
    ) -> CommandResult:
        return await _run(info, retry_command, input)

    @strawberry.mutation(
        description="Operators: withdraw an ACCEPTED or DISPATCHED command, or give up on a "
        "FAILED or DEAD_LETTERED one (it leaves the exception queue)."
    )
    async def cancel_command(
        self, info: strawberry.Info, input: Annotated[inputs.CommandActionInput, INPUT]
    ) -> CommandResult:
        return await _run(info, cancel_command, input)

    @strawberry.mutation(
        description="Resume a handoff waiting for data, halted or failed: merges the data "
        "given, restarts failed steps and checks readiness again."
    )
    async def resume_handoff(
        self, info: strawberry.Info, input: Annotated[handoff_inputs.ResumeHandoffInput, INPUT]
    ) -> CommandResult:
        return await _run(info, resume_handoff, input)

    @strawberry.mutation(description="Run a FAILED step of a handoff again (a new attempt).")
    async def retry_handoff_step(
        self, info: strawberry.Info, input: Annotated[handoff_inputs.RetryHandoffStepInput, INPUT]
    ) -> CommandResult:
        return await _run(info, retry_handoff_step, input)

    @strawberry.mutation(description="Stop a handoff; what was written stays written.")
    async def cancel_handoff(
        self, info: strawberry.Info, input: Annotated[handoff_inputs.CancelHandoffInput, INPUT]
    ) -> CommandResult:
        return await _run(info, cancel_handoff, input)

    @strawberry.mutation(
        description="Operators: an identity exception's record is this account. Recorded "
        "(who, when) and applied by the record's next sync, and by every sync after it."
    )
    async def link_identity(
        self, info: strawberry.Info, input: sync_inputs.LinkIdentityInput
    ) -> CommandResult:
        return await _run(info, link_identity, input)

    @strawberry.mutation(
        description="Operators: an identity exception's record is a client of its own: the "
        "record's next sync writes it as an account (its own system's lineage) and links it."
    )
    async def create_identity_account(
        self, info: strawberry.Info, input: sync_inputs.IdentityActionInput
    ) -> CommandResult:
        return await _run(info, create_identity_account, input)

    @strawberry.mutation(
        description="Operators: leave an identity exception's record out: from its next sync "
        "on it is neither linked nor parked, and its exception is resolved."
    )
    async def ignore_identity(
        self, info: strawberry.Info, input: sync_inputs.IdentityActionInput
    ) -> CommandResult:
        return await _run(info, ignore_identity, input)
