"""The Tryton connector's checkpoint: how far its own records and their related ones are read.

A pull reads an object's own changes (``own``: the last ``last_modified_at`` applied), then
the changes of the related models its values come from (``related``: the newest related
stamp handled, see ``related.py``). Both travel in the one checkpoint string of the object
(``"<own>"`` or ``"<own>;<related>"``, ISO stamps); a checkpoint written before related
models were watched reads as ``related = own``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Cursor:
    """Two read positions; ``None`` = nothing read yet."""

    own: datetime | None = None
    related: datetime | None = None

    @classmethod
    def parse(cls, checkpoint: str | None) -> Cursor:
        if not checkpoint:
            return cls()
        own, _, related = checkpoint.partition(";")
        stamp = datetime.fromisoformat(own)
        return cls(stamp, datetime.fromisoformat(related) if related else stamp)

    def encode(self) -> str | None:
        if self.own is None:
            return None
        if self.related is None or self.related == self.own:
            return self.own.isoformat()
        return f"{self.own.isoformat()};{self.related.isoformat()}"
