"""The quote-to-project handoff: one workflow per won opportunity, and the state of its steps.

Like the command log, these tables hold clientgraph's own workflow state, not a copy of a
source: the handoff orchestrator (``sync_jobs.handoff``) writes them, and operators act on
them through mutations. ``handoff.opportunity_id`` is unique: that constraint, with
``INSERT … ON CONFLICT DO NOTHING``, is what makes any number of concurrent closed-won
events (redelivered webhooks, a pull and a mutation) start exactly one handoff.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, UniqueConstraint
from sqlmodel import Field, SQLModel

from readmodel.types import ID, UTCDateTime


class HandoffStatus(StrEnum):
    """Where a handoff is; the last four are where it stops until someone acts."""

    WAITING_FOR_DATA = "WAITING_FOR_DATA"  # the readiness check found something missing
    READY = "READY"  # ready (or resumed), no step started yet
    IN_PROGRESS = "IN_PROGRESS"  # a step's command is running or about to
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"  # a step's command failed: retryHandoffStep
    HALTED = "HALTED"  # stopped safely (a suspected duplicate customer): fix, then resume
    CANCELLED = "CANCELLED"


class StepStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class Handoff(SQLModel, table=True):
    """The handoff of one won opportunity to delivery.

    ``status``: WAITING_FOR_DATA → READY → IN_PROGRESS → COMPLETED, or FAILED (a step's
    command failed; retryable), HALTED (stopped safely, e.g. a suspected duplicate customer),
    CANCELLED. ``missing`` is a JSON list of ``{field, message, owner}``; ``inputs`` a JSON
    object of data supplied by people (billing method, start date, milestones…) that the
    systems of record lack. ``manual_intervention`` is set by any exception or operator
    action: the KPI "hand-offs without manual intervention" counts the rows where it is not.
    """

    __tablename__ = "handoff"

    id: int | None = Field(default=None, primary_key=True, sa_type=ID)
    opportunity_id: int = Field(foreign_key="opportunity.id", unique=True, sa_type=BigInteger)
    status: str = Field(max_length=20, index=True)
    trigger: str = Field(max_length=16)
    readiness_score: int = 0
    missing: str = "[]"
    inputs: str = "{}"
    customer_source_id: str | None = Field(default=None, max_length=64)
    project_source_id: str | None = Field(default=None, max_length=64)
    manual_intervention: bool = False
    error_code: str | None = Field(default=None, max_length=64)
    error_message: str | None = Field(default=None, max_length=1000)
    won_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class HandoffStep(SQLModel, table=True):
    """One step of a handoff; each run of it is one command (``command_id``).

    ``attempt`` grows on each operator retry: the step's command key is derived from the
    handoff, the step and the attempt, so re-running the orchestrator finds the same command
    while a retry makes a fresh one from the data as it is now.
    """

    __tablename__ = "handoff_step"
    __table_args__ = (UniqueConstraint("handoff_id", "name"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=ID)
    handoff_id: int = Field(foreign_key="handoff.id", index=True, sa_type=BigInteger)
    position: int
    name: str = Field(max_length=40)
    status: str = Field(max_length=16)
    attempt: int = 1
    command_id: int | None = Field(default=None, foreign_key="command.id", sa_type=BigInteger)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error_code: str | None = Field(default=None, max_length=64)
    error_message: str | None = Field(default=None, max_length=1000)


class WinObservation(SQLModel, table=True):
    """A deal seen turning won by sync *after* its source's initial backfill.

    Only these wins open a handoff from sync: a deal found already won by a backfill (the
    firm's history, set up by hand) never does. ``observed_at`` is when the read model saw
    the change; the handoff waits until every system that owns projects has pulled after
    it, so a project the firm made meanwhile is seen before anything is created.
    """

    __tablename__ = "win_observation"

    opportunity_id: int = Field(foreign_key="opportunity.id", primary_key=True, sa_type=BigInteger)
    source_system: str = Field(max_length=32)
    observed_at: datetime = Field(sa_type=UTCDateTime)
