"""The simulator's records, by record type, with NetSuite's ``lastModifiedDate`` semantics.

Records are held in the record API's shape (camelCase field ids, references as ``{"id": ...}``
objects) with exact Python values: ``Decimal`` money and hours, ``date`` and aware ``datetime``.
``wire.py`` turns them into JSON. Every change takes a stamp from the store's clock, which only
moves forward (at least a millisecond a change), so two changes never share a stamp and an
incremental reader ordering by ``lastModifiedDate`` sees every change exactly once in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from systems.netsuite.records import seed_records

Record = dict[str, Any]
Change = Literal["create", "update", "delete"]
Listener = Callable[[str, str, str, datetime], None]
TICK = timedelta(milliseconds=1)
READ_ONLY = frozenset({"id", "lastModifiedDate", "links"})
EVERY_TYPE = frozenset({"externalId"})  # standard on every record type (eid: upserts)


def wall_clock() -> datetime:
    """Now, truncated to NetSuite's millisecond precision."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class UnknownField(ValueError):
    """A write named a field the record type does not have."""


@dataclass
class Store:
    """Records by type and internal id; ``listeners`` hear every create, update and delete.

    A listener is called as ``listener(record_type, record_id, change, stamp)`` after the
    change is made (webhook delivery is built on it).
    """

    records: dict[str, dict[str, Record]] = field(default_factory=dict)
    listeners: list[Listener] = field(default_factory=list)
    now: Callable[[], datetime] = wall_clock
    last_stamp: datetime = datetime(2000, 1, 1, tzinfo=UTC)

    def tick(self) -> datetime:
        """The next stamp: the clock's time, or a millisecond after the last stamp if later."""
        self.last_stamp = max(self.now(), self.last_stamp + TICK)
        return self.last_stamp

    def load(self, record_type: str, record: Record) -> None:
        """Put a record as it already is (seeding): no new stamp, no listeners."""
        self.records.setdefault(record_type, {})[record["id"]] = record
        self.last_stamp = max(self.last_stamp, record["lastModifiedDate"])

    def get(self, record_type: str, record_id: str) -> Record | None:
        return self.records.get(record_type, {}).get(record_id)

    def find_external(self, record_type: str, external_id: str) -> Record | None:
        found = self.records.get(record_type, {}).values()
        return next((r for r in found if r.get("externalId") == external_id), None)

    def rows(self, record_type: str) -> list[Record]:
        return list(self.records.get(record_type, {}).values())

    def create(self, record_type: str, fields: Record) -> Record:
        """A new record with the next free internal id."""
        self._check_fields(record_type, fields)
        existing = self.records.setdefault(record_type, {})
        record_id = str(max((int(i) for i in existing), default=100_000) + 1)
        record = {**fields, "id": record_id, "lastModifiedDate": self.tick()}
        existing[record_id] = record
        self._notify(record_type, record_id, "create", record["lastModifiedDate"])
        return record

    def update(self, record_type: str, record_id: str, changes: Record) -> Record:
        """Apply ``changes`` as a user edit; ``lastModifiedDate`` moves forward."""
        self._check_fields(record_type, changes)
        record = self.records[record_type][record_id]
        record.update(changes)
        record["lastModifiedDate"] = self.tick()
        self._notify(record_type, record_id, "update", record["lastModifiedDate"])
        return record

    def delete(self, record_type: str, record_id: str) -> None:
        """A hard delete, as NetSuite does: the record is simply gone."""
        del self.records[record_type][record_id]
        self._notify(record_type, record_id, "delete", self.tick())

    def _check_fields(self, record_type: str, fields: Record) -> None:
        sample = next(iter(self.records.get(record_type, {}).values()), None)
        if sample is None:
            return  # a type with no records yet: accept any field
        # Seeded records carry every field of their type (None where empty in NetSuite).
        unknown = sorted(set(fields) - set(sample) - READ_ONLY - EVERY_TYPE)
        if unknown:
            raise UnknownField(f"Invalid field {unknown[0]!r} on record type {record_type}")

    def _notify(self, record_type: str, record_id: str, change: Change, stamp: datetime) -> None:
        for listener in self.listeners:
            listener(record_type, record_id, change, stamp)


def from_seed(rows: dict[str, list[dict[str, Any]]]) -> Store:
    """A store holding the ERP/PSA half of a generated firm (``readmodel.seed`` rows)."""
    store = Store()
    for record_type, record in seed_records(rows):
        store.load(record_type, record)
    return store
