"""A command's payload as writers read it.

The log stores strings (``"1234.50"``, ``"2026-06-30"``, ``"true"``); a value that does not
parse is ``InvalidPayload`` (no retry helps)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sync_jobs.commands.writes import InvalidPayload, Payload


def number(kind: str, p: Payload, name: str) -> Decimal:
    """An exact decimal (``"1234.50"``): money and hours never pass through a float."""
    try:
        value = Decimal(str(p[name]))
    except (KeyError, InvalidOperation):
        raise InvalidPayload(kind, f"{name} is not a number: {p.get(name)!r}") from None
    if not value.is_finite():
        raise InvalidPayload(kind, f"{name} is not a number: {p.get(name)!r}")
    return value


def iso_day(kind: str, p: Payload, name: str) -> date:
    """An ISO calendar date (``2026-06-30``)."""
    try:
        return date.fromisoformat(str(p[name])[:10])
    except (KeyError, ValueError):
        raise InvalidPayload(kind, f"{name} is not a date: {p.get(name)!r}") from None


def flag(value: Any) -> bool:
    """The log's booleans are strings (``"true"``)."""
    return value is True or str(value).lower() in ("true", "t", "1", "yes")


def text(kind: str, p: Payload, name: str) -> str:
    """A required value, as the log stored it."""
    value = p.get(name)
    if value in (None, ""):
        raise InvalidPayload(kind, f"{name} is required")
    return str(value)
