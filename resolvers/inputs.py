"""Checks shared by every filter input: ids of the right type, currency codes, date ranges."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from enum import Enum

from resolvers.errors import BadUserInput
from resolvers.ids import key_of

CURRENCY = re.compile(r"^[A-Z]{3}$")


def optional_key(global_id: str | None, type_name: str, argument: str) -> int | None:
    return None if global_id is None else key_of(global_id, type_name, argument=argument)


def currency_code(value: str | None, argument: str) -> str | None:
    if value is not None and not CURRENCY.match(value):
        raise BadUserInput(f"{argument}: {value!r} is not an ISO 4217 code", argument=argument)
    return value


def values(items: Sequence[Enum] | None, argument: str) -> tuple[str, ...] | None:
    """Enum members as stored values; an empty list is refused (omit the filter instead)."""
    if items is None:
        return None
    if not items:
        raise BadUserInput(f"{argument}: give at least one value, or omit it", argument=argument)
    return tuple(str(item.value) for item in items)


def strings(items: Sequence[str] | None, argument: str) -> tuple[str, ...] | None:
    if items is None:
        return None
    if not items:
        raise BadUserInput(f"{argument}: give at least one value, or omit it", argument=argument)
    if len(items) > MAX_VALUES:
        raise BadUserInput(f"{argument}: at most {MAX_VALUES} values", argument=argument)
    return tuple(text(item, argument) or "" for item in items)


MAX_VALUES = 100


EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
"""The dates an argument may name: the read model's business dates, with room both ways."""
MAX_TEXT = 255  # the longest text column a filter compares with (names)


def in_range(day: date | None, argument: str) -> date | None:
    """``day`` if the read model can hold it, else ``BadUserInput``."""
    if day is not None and not EARLIEST <= day <= LATEST:
        raise BadUserInput(
            f"{argument}: {day.isoformat()} is outside {EARLIEST.isoformat()} to "
            f"{LATEST.isoformat()}",
            argument=argument,
        )
    return day


def text(value: str | None, argument: str, max_length: int = MAX_TEXT) -> str | None:
    """A text argument no longer than the column it is compared with, without NUL (which
    PostgreSQL's text cannot hold: it would fail the statement)."""
    if value is not None and len(value) > max_length:
        raise BadUserInput(f"{argument}: at most {max_length} characters", argument=argument)
    if value is not None and "\x00" in value:
        raise BadUserInput(f"{argument}: must not contain NUL (U+0000)", argument=argument)
    return value


def date_range(start: date | None, end: date | None, argument: str) -> None:
    in_range(start, argument)
    in_range(end, argument)
    if start is not None and end is not None and start > end:
        raise BadUserInput(f"{argument}: the range starts after it ends", argument=argument)
