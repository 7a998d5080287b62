"""What a connector's mapping produces: canonical rows that still name parents by source id."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Ref:
    """A parent named by its source: resolved to the read model's id when the row is applied."""

    table: str
    system: str
    source_id: str


@dataclass(frozen=True)
class CanonicalRow:
    """One source record as a row of ``table``; ``values`` may hold ``Ref`` for foreign keys.

    A deletion carries ``deleted_at`` (the time the source deleted it) and may omit values.
    ``values`` must not repeat the version stamp: the content hash would then change with
    every version and an unchanged record would be rewritten. ``external_id`` is set on
    client records of a system that is not the account master (an ERP customer's externalId
    = its CRM account id): identity resolution links them instead of duplicating the client.
    """

    table: str
    source_system: str
    source_id: str
    source_version: datetime
    values: dict[str, Any] = field(default_factory=dict)
    deleted_at: datetime | None = None
    external_id: str | None = None  # this client's id in the account master (identity)

    def payload_hash(self) -> str:
        """A stable digest of the content, so an unchanged record writes nothing."""
        canonical = json.dumps(
            {"values": self.values, "deleted": self.deleted_at is not None},
            sort_keys=True,
            default=_plain,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, Ref):
        return [value.table, value.system, value.source_id]
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot hash {type(value).__name__}")
