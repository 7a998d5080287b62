"""Forward keyset pagination with opaque cursors (``first`` / ``after``).

A cursor carries the ordering it was made for and the sort key of the last row seen; a cursor
from another ordering or one that was tampered with is refused, never silently reinterpreted.
Keyset (not offset) paging keeps page N as fast as page 1 and stable under inserts.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from resolvers.errors import BadUserInput

CURSOR_VERSION = "c1"


@dataclass(frozen=True)
class PageRequest:
    """A validated page request: how many rows, and after which sort key."""

    first: int
    after: tuple[Any, ...] | None


def page_request(
    first: int | None, after: str | None, *, ordering: str, default: int, maximum: int
) -> PageRequest:
    """Validate ``first`` and decode ``after`` for ``ordering``; raise ``BadUserInput``."""
    size = default if first is None else first
    if size < 0 or size > maximum:
        raise BadUserInput(f"first must be between 0 and {maximum}, got {size}", argument="first")
    return PageRequest(size, None if after is None else decode_cursor(after, ordering))


def encode_cursor(ordering: str, key: tuple[Any, ...]) -> str:
    values = [v.isoformat() if isinstance(v, date) else v for v in key]
    raw = json.dumps([CURSOR_VERSION, ordering, values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, ordering: str) -> tuple[Any, ...]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        version, made_for, values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, UnicodeError, ValueError, TypeError, RecursionError):
        raise BadUserInput("after: not a valid cursor", argument="after") from None
    if version != CURSOR_VERSION or not isinstance(values, list):
        raise BadUserInput("after: not a valid cursor", argument="after")
    if made_for != ordering:
        raise BadUserInput(
            "after: this cursor belongs to another ordering or list", argument="after"
        )
    return tuple(values)
