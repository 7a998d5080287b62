"""The handoff orchestrator: checks readiness, then runs the steps in order, one command each.

``advance`` is the whole state machine and is safe to call any number of times, from
anywhere, concurrently: it looks at the stored state and does the next thing that is due.

* READY / WAITING_FOR_DATA: run the readiness check; not ready → WAITING_FOR_DATA with what
  is missing (an exception: the handoff counts as manually handled); ready → IN_PROGRESS.
* IN_PROGRESS: the first step not SUCCEEDED decides. Without a command yet, its command is
  logged (ACCEPTED) under a key derived from the handoff, step and attempt, so a second
  advancer finds the same command. With a SUCCEEDED command, the step is done and the next
  one starts at once. With a FAILED / DEAD_LETTERED / CANCELLED command, the step and the
  handoff fail with the source's error (HALTED for a suspected duplicate customer).
  Otherwise the command is still on its way and nothing changes.

It is called after a step's command SUCCEEDS (``on_command_succeeded``, from
``apply_command``), after a pull (``advance_handoffs``) and by operators' actions. A crash at
any point leaves a state the next call continues from.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from clientgraph.metrics import HANDOFF_CYCLE_SECONDS
from readmodel import command_log
from readmodel.command_log import CommandStatus
from readmodel.tables import HandoffStatus, StepStatus
from sync_jobs.connectors.netsuite.handoff_writes import DUPLICATE_SUSPECTED
from sync_jobs.handoff import readiness, state
from sync_jobs.handoff.steps import BY_NAME, Progress, new_command

log = logging.getLogger(__name__)

STOPPED = frozenset(
    {HandoffStatus.COMPLETED, HandoffStatus.FAILED, HandoffStatus.HALTED, HandoffStatus.CANCELLED}
)
FAILED_COMMANDS = frozenset(
    {CommandStatus.FAILED, CommandStatus.DEAD_LETTERED, CommandStatus.CANCELLED}
)
OUTPUTS = {"ensure_customer": "customer_source_id", "create_project": "project_source_id"}


@dataclass
class Advanced:
    """Where ``advance`` left a handoff, and commands it logged (to hand to the queue)."""

    handoff_id: int
    status: str
    new_commands: list[int] = field(default_factory=list)


async def advance(engine: AsyncEngine, handoff_id: int, now: datetime) -> Advanced:
    """Take the handoff as far as it can go now (see the module docstring)."""
    async with engine.begin() as conn:
        handoff = await state.load(conn, handoff_id, lock=True)
        if handoff is None:
            return Advanced(handoff_id, "MISSING")
        result = Advanced(handoff_id, handoff.status)
        if handoff.status in STOPPED:
            return result
        if handoff.status != HandoffStatus.IN_PROGRESS:
            result.status = await _check_readiness(conn, handoff, now)
            if result.status != HandoffStatus.IN_PROGRESS:
                return result
        result.status = await _run_steps(conn, handoff_id, now, result.new_commands)
    if result.status == HandoffStatus.COMPLETED:  # committed: it completed just now
        HANDOFF_CYCLE_SECONDS.observe(max(0.0, (now - handoff.created_at).total_seconds()))
    return result


async def _check_readiness(conn: AsyncConnection, handoff: Row[Any], now: datetime) -> str:
    """Store the score and what is missing; IN_PROGRESS when nothing is."""
    facts = await readiness.gather(conn, handoff.opportunity_id, handoff.inputs)
    found = readiness.check(facts, readiness.plan_of(facts))
    status = HandoffStatus.IN_PROGRESS if found.ready else HandoffStatus.WAITING_FOR_DATA
    missing = json.dumps([m.__dict__ for m in found.missing])
    values: dict[str, Any] = {"status": status.value, "readiness_score": found.score}
    values["missing"] = missing
    if not found.ready:
        values["manual_intervention"] = True  # an exception was raised for someone to fix
    if (status, found.score, missing) != (handoff.status, handoff.readiness_score, handoff.missing):
        await state.set_handoff(conn, handoff.id, now, **values)
    return status.value


async def _run_steps(
    conn: AsyncConnection, handoff_id: int, now: datetime, new_commands: list[int]
) -> str:
    """Settle finished steps in order and start the next one; the handoff's status."""
    for step in await state.steps_of(conn, handoff_id):
        if step.status == StepStatus.SUCCEEDED:
            continue
        if step.status == StepStatus.FAILED:
            return HandoffStatus.FAILED.value  # an operator retries the step
        if step.command_id is None:
            return await _start(conn, handoff_id, step, now, new_commands)
        command = await command_log.get(conn, step.command_id)
        if command is None or command.status in FAILED_COMMANDS:
            return await _fail(conn, handoff_id, step, command, now)
        if command.status != CommandStatus.SUCCEEDED:
            return HandoffStatus.IN_PROGRESS.value
        await _succeed(conn, handoff_id, step, command, now)
    await state.set_handoff(
        conn, handoff_id, now, status=HandoffStatus.COMPLETED.value, completed_at=now
    )
    return HandoffStatus.COMPLETED.value


async def _start(
    conn: AsyncConnection, handoff_id: int, step: Row[Any], now: datetime, new: list[int]
) -> str:
    """Log the step's command (or find it, logged by a concurrent advancer)."""
    handoff = await state.load(conn, handoff_id)
    assert handoff is not None
    facts = await readiness.gather(conn, handoff.opportunity_id, handoff.inputs)
    done = Progress(handoff_id, handoff.customer_source_id, handoff.project_source_id)
    try:
        command = new_command(
            BY_NAME[step.name], step.attempt, facts, readiness.plan_of(facts), done, now
        )
    except ValueError as error:  # the plan changed under us: fail visibly, never guess
        await _mark_failed(conn, handoff_id, step, "HANDOFF_INVALID", str(error), now)
        return HandoffStatus.FAILED.value
    accepted = await command_log.insert_or_fetch(conn, command, now=now)
    if accepted.row.kind != command.kind:  # the key names another command: never adopt it
        message = f"idempotency key {command.idempotency_key} is held by another command"
        await _mark_failed(conn, handoff_id, step, "HANDOFF_KEY_TAKEN", message, now)
        return HandoffStatus.FAILED.value
    await state.set_step(
        conn,
        step.id,
        status=StepStatus.RUNNING.value,
        command_id=accepted.row.id,
        started_at=now,
        completed_at=None,
        error_code=None,
        error_message=None,
    )
    if accepted.created:
        new.append(int(accepted.row.id))
    return HandoffStatus.IN_PROGRESS.value


async def _succeed(
    conn: AsyncConnection, handoff_id: int, step: Row[Any], command: Row[Any], now: datetime
) -> None:
    """The step is done; keep what it produced (the customer's, the project's id)."""
    at = command.completed_at or now
    await state.set_step(conn, step.id, status=StepStatus.SUCCEEDED.value, completed_at=at)
    if (column := OUTPUTS.get(step.name)) is not None:
        await state.set_handoff(conn, handoff_id, now, **{column: command.target_source_id})


async def _fail(
    conn: AsyncConnection,
    handoff_id: int,
    step: Row[Any],
    command: Row[Any] | None,
    now: datetime,
) -> str:
    code = (command.last_error_code if command is not None else None) or "COMMAND_LOST"
    message = (command.last_error_message if command is not None else None) or (
        f"the step's command ended {command.status}" if command is not None else "no command"
    )
    return await _mark_failed(conn, handoff_id, step, code, message, now)


async def _mark_failed(
    conn: AsyncConnection, handoff_id: int, step: Row[Any], code: str, message: str, now: datetime
) -> str:
    """The step and the handoff stop with the source's error; a duplicate halts instead."""
    status = HandoffStatus.HALTED if code == DUPLICATE_SUSPECTED else HandoffStatus.FAILED
    await state.set_step(
        conn,
        step.id,
        status=StepStatus.FAILED.value,
        completed_at=now,
        error_code=code[:64],
        error_message=message[:1000],
    )
    await state.set_handoff(
        conn,
        handoff_id,
        now,
        status=status.value,
        error_code=code[:64],
        error_message=message[:1000],
        manual_intervention=True,
    )
    log.warning("handoff %s: step %s stopped it (%s): %s", handoff_id, step.name, code, message)
    return status.value
