"""What every connector to a system of record offers the sync engine.

A connector speaks one system's wire format (``client.py``), maps its records to canonical
rows with pure functions (``mapping.py``) and implements this protocol (``connector.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Protocol

from sync_jobs.pull import Page
from sync_jobs.rows import CanonicalRow


class Connector(Protocol):
    """The read side of a connector; the write side (``apply_command``) comes with commands.

    ``objects`` lists what can be pulled, parents first; ``tables`` names the read-model
    table each object type lands in.
    """

    system: str
    objects: tuple[str, ...]
    tables: dict[str, str]

    def pull(self, object_type: str, checkpoint: str | None) -> AsyncIterator[Page]:
        """Pages of changes since ``checkpoint`` (``None``: from the beginning)."""
        ...

    async def fetch(self, object_type: str, ids: Sequence[str]) -> list[CanonicalRow]:
        """Re-read these records now (a webhook hint, a reconciliation repair).

        Returns one row per id asked: live records as mapped, and a deletion (``deleted_at``
        = the time of the read, also its version) for each id the source no longer has.
        """
        ...

    async def live_ids(self, object_type: str) -> dict[str, datetime]:
        """Every live record's id and version stamp at the source (for reconciliation)."""
        ...
