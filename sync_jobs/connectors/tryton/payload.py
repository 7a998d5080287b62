"""A command's payload as Tryton needs it: the log stores strings; Tryton wants ids, dates,
``Decimal`` amounts. A value that does not parse is ``InvalidPayload`` (no retry helps)."""

from __future__ import annotations

from sync_jobs.commands.payload import flag, iso_day, number
from sync_jobs.commands.writes import InvalidPayload, Payload

__all__ = ["flag", "iso_day", "number", "record_id"]


def record_id(kind: str, p: Payload, name: str) -> int:
    """A Tryton record id (an integer) named by the payload."""
    text = str(p.get(name) or "")
    if not text.isdigit():
        raise InvalidPayload(kind, f"{name} is not a Tryton id: {text!r}")
    return int(text)
