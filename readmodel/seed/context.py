"""The state one seeding run shares: its random source, its clock, id counters, row buffers."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

Row = dict[str, Any]
SALESFORCE_PREFIX = {"account": "001", "contact": "003", "opportunity": "006"}
CURRENCIES = ("USD", "EUR")


@dataclass
class SeedContext:
    """Everything generators need; ``rows`` collects the current chunk's rows by table."""

    rng: random.Random
    today: date
    synced_at: datetime
    next_id: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rows: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    busy: set[tuple[int, date]] = field(default_factory=set)  # (person, day) with time logged
    planted: set[str] = field(default_factory=set)  # the deliberate anomalies already made

    def new_id(self, table: str) -> int:
        self.next_id[table] += 1
        return self.next_id[table]

    def add(self, table: str, row: Row) -> Row:
        self.rows[table].append(row)
        return row

    def lineage(self, table: str, row_id: int, system: str, changed_on: date) -> Row:
        """The lineage columns of a row first seen in ``system``, last changed on a date."""
        return {
            "id": row_id,
            "source_system": system,
            "source_id": source_id(system, table, row_id),
            "source_version": self.stamp(min(changed_on, self.today)),
            "synced_at": self.synced_at,
            "deleted_at": None,
            "payload_hash": None,
        }

    def stamp(self, day: date) -> datetime:
        """A deterministic time of day on ``day``, UTC."""
        seconds = self.rng.randrange(8 * 3600, 19 * 3600)
        return datetime.combine(day, time(), UTC) + timedelta(seconds=seconds)

    def days_ago(self, low: int, high: int) -> date:
        return self.today - timedelta(days=self.rng.randint(low, high))


def source_id(system: str, table: str, row_id: int) -> str:
    """Salesforce-style 18-character ids for CRM rows, NetSuite-style numbers for the rest."""
    if system == "salesforce":
        return f"{SALESFORCE_PREFIX[table]}5g{row_id:013X}"
    return str(100_000 + row_id)
