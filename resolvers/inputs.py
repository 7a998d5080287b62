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
    return tuple(items)


def date_range(start: date | None, end: date | None, argument: str) -> None:
    if start is not None and end is not None and start > end:
        raise BadUserInput(f"{argument}: the range starts after it ends", argument=argument)
