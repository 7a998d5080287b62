"""The content half of reconciliation: which records to re-read in full this run.

Comparing ids and version stamps cannot see a value that changed without moving its
record's stamp (a value read through a relation whose change a connector does not watch, a
related record deleted, a row damaged outside sync). So every reconciliation also re-reads a
*slice* of the live records and lets the payload hash decide what differs: over
``period`` seconds every record is re-read once. Slices are picked by a stable hash of the
source id and the run's position in the period, so no state is kept: with runs every
``interval`` seconds there are ⌈period ÷ interval⌉ slices, one per run, in turn.

A connector may also name records to re-read on *every* run (``Volatile``): those whose
values a related record's deletion can change, which no stamp reveals.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

DEFAULT_PERIOD_SECONDS = 86_400.0  # every record re-read once a day


@runtime_checkable
class Volatile(Protocol):
    """A connector whose records of some types can change with no stamp moving."""

    async def volatile_ids(self, object_type: str) -> set[str]:
        """Live ids to re-read in full on every reconciliation (often none)."""
        ...


@dataclass(frozen=True)
class Rolling:
    """Re-read every record once per ``period``, by runs every ``interval`` seconds."""

    period: float = DEFAULT_PERIOD_SECONDS
    interval: float = 3_600.0

    @property
    def slices(self) -> int:
        return max(1, math.ceil(self.period / self.interval))

    def turn(self, at: datetime) -> int:
        """The slice the run at ``at`` re-reads (consecutive runs take consecutive slices)."""
        return int(at.timestamp() // self.interval) % self.slices

    def due(self, ids: Iterable[str], at: datetime) -> set[str]:
        """The ids whose turn it is at ``at``."""
        turn, slices = self.turn(at), self.slices
        return {i for i in ids if zlib.crc32(i.encode()) % slices == turn}
