"""Integration exceptions: what sync could not decide alone (see docs/sync.md)."""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from resolvers.ids import to_global_id


@strawberry.enum(description="OPEN until a later sync attempt settles it, then RESOLVED.")
class IntegrationExceptionStatus(Enum):
    OPEN = "open"
    RESOLVED = "resolved"


@strawberry.type(
    description="A record sync could not apply on its own, e.g. an ERP customer that matches "
    "no CRM account (or several). One per record and kind; seeing it again moves lastSeenAt."
)
class IntegrationException:
    id: strawberry.ID = strawberry.field(
        description="Opaque id (not a Node: it is not fetchable with node(id:))."
    )
    kind: str = strawberry.field(
        description="identity_unmatched, identity_ambiguous or orphaned (a parent never came)."
    )
    system: str = strawberry.field(description="The system of record the record comes from.")
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

    @classmethod
    def from_row(cls, row: Any) -> IntegrationException:
        return cls(
            id=strawberry.ID(to_global_id("IntegrationException", row.id)),
            kind=row.kind,
            system=row.source_system,
            object_type=row.object_type,
            source_id=row.source_id,
            message=row.message,
            details=None if row.details is None else json.loads(row.details),
            status=IntegrationExceptionStatus(row.status),
            first_seen_at=row.first_seen_at,
            last_seen_at=row.last_seen_at,
            resolved_at=row.resolved_at,
        )
