"""Integration exceptions: what sync could not decide alone (see docs/sync.md)."""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from resolvers.ids import to_global_id
from schema.common.types import Node, SourceRef
from schema.enums import SourceSystem


@strawberry.enum(description="OPEN until a later sync attempt settles it, then RESOLVED.")
class IntegrationExceptionStatus(Enum):
    OPEN = "open"
    RESOLVED = "resolved"


@strawberry.enum(
    description="What sync could not decide about a record (values as stored; the lower-case "
    "words this field always held)."
)
class IntegrationExceptionKind(StrEnum):
    identity_unmatched = "identity_unmatched"
    identity_ambiguous = "identity_ambiguous"
    orphaned = "orphaned"


@strawberry.enum(description="An operator's answer to an identity exception.")
class IdentityAction(Enum):
    LINK = "link"
    CREATE = "create"
    IGNORE = "ignore"


@strawberry.type(description="What an operator decided about an identity exception's record.")
class IdentityDecision:
    action: IdentityAction = strawberry.field(
        description="LINK to an account, CREATE an account from the record, or IGNORE it."
    )
    account_id: strawberry.ID | None = strawberry.field(
        description="The account linked to (LINK only)."
    )
    account_name: str | None = strawberry.field(description="That account's name.")
    decided_by: str = strawberry.field(description="The principal that decided.")
    decided_role: str = strawberry.field(description="Its role then.")
    decided_at: datetime = strawberry.field(description="When.")
    applied_at: datetime | None = strawberry.field(
        description="When a sync first honoured it; null until the record's next sync."
    )
    command_id: strawberry.ID = strawberry.field(
        description="The operator's action in the command log (linkIdentity, …)."
    )

    @classmethod
    def from_row(cls, row: Any) -> IdentityDecision | None:
        if getattr(row, "decision_action", None) is None:
            return None
        account = row.decision_account_id
        return cls(
            action=IdentityAction(row.decision_action),
            account_id=None if account is None else strawberry.ID(to_global_id("Account", account)),
            account_name=row.decision_account_name,
            decided_by=row.decision_by,
            decided_role=row.decision_role,
            decided_at=row.decision_at,
            applied_at=row.decision_applied_at,
            command_id=strawberry.ID(to_global_id("Command", row.decision_command_id)),
        )


@strawberry.type(description="A live account of the account master a record could be.")
class IdentityCandidate:
    account_id: strawberry.ID = strawberry.field(description="Give it to linkIdentity.")
    source_id: str = strawberry.field(description="Its id in the account master.")
    name: str = strawberry.field(description="Its name.")
    domain: str | None = strawberry.field(description="Its web domain, if known.")


@strawberry.type(
    description="A record sync could not apply on its own, e.g. an ERP customer that matches "
    "no CRM account (or several). One per record and kind; seeing it again moves lastSeenAt. "
    "A Node for operators (null from node(id:) for other roles)."
)
class IntegrationException(Node):
    id: strawberry.ID = strawberry.field(description="Global, opaque id.")
    kind: IntegrationExceptionKind = strawberry.field(
        description="identity_unmatched, identity_ambiguous or orphaned (a parent never came)."
    )
    system: SourceSystem = strawberry.field(
        description="The system of record the record comes from."
    )
    object_type: str = strawberry.field(description="The record's type in that system.")
    source_id: str = strawberry.field(description="The record's id in that system.")
    message: str = strawberry.field(description="What is wrong, in one sentence.")
    details: JSON | None = strawberry.field(
        description="Machine-readable context, e.g. the candidate accounts of an ambiguous match."
    )
    status: IntegrationExceptionStatus = strawberry.field(
        description="OPEN while sync still meets the problem; RESOLVED once it is settled."
    )
    first_seen_at: datetime = strawberry.field(description="When sync first met the problem.")
    last_seen_at: datetime = strawberry.field(description="The latest attempt that met it.")
    resolved_at: datetime | None = strawberry.field(
        description="When a later attempt settled it (null while open)."
    )
    decision: IdentityDecision | None = strawberry.field(
        description="An operator's link, create or ignore of an identity exception's record."
    )
    candidates: list[IdentityCandidate] = strawberry.field(
        description="The accounts an ambiguous record matched (empty for other kinds)."
    )

    @classmethod
    def from_row(cls, row: Any) -> IntegrationException:
        details = None if row.details is None else json.loads(row.details)
        return cls(
            id=strawberry.ID(to_global_id("IntegrationException", row.id)),
            kind=IntegrationExceptionKind(row.kind),
            system=SourceSystem(row.source_system),
            object_type=row.object_type,
            source_id=row.source_id,
            message=row.message,
            details=details,
            status=IntegrationExceptionStatus(row.status),
            first_seen_at=row.first_seen_at,
            last_seen_at=row.last_seen_at,
            resolved_at=row.resolved_at,
            decision=IdentityDecision.from_row(row),
            candidates=_candidates(details),
            row=row,
        )

    @strawberry.field(
        description="Empty: an exception is clientgraph's own record (the record it is about "
        "is named by system, objectType and sourceId)."
    )
    def source_refs(self) -> list[SourceRef]:
        return []


def _candidates(details: Any) -> list[IdentityCandidate]:
    """Candidates recorded with their account id (exceptions older than that have none)."""
    found = details.get("candidates") if isinstance(details, dict) else None
    return [
        IdentityCandidate(
            account_id=strawberry.ID(to_global_id("Account", c["accountId"])),
            source_id=str(c.get("sourceId")),
            name=str(c.get("name")),
            domain=c.get("domain"),
        )
        for c in found or ()
        if isinstance(c, dict) and isinstance(c.get("accountId"), int)
    ]
