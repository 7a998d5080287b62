"""Consistency tokens: what a client sends back (``X-Consistency-Token``) to read its write.

A token names one command (``base64url("ct1:<id>")``); a query carrying it waits until that
command is final. Opaque to clients so that its contents may change with a new prefix.
"""

from __future__ import annotations

import base64
import binascii

PREFIX = "ct1:"


def token_of(command_id: int) -> str:
    return base64.urlsafe_b64encode(f"{PREFIX}{command_id}".encode()).decode().rstrip("=")


def command_id_of(token: str) -> int | None:
    """The command a token names, or ``None`` for anything that is not a token."""
    try:
        padded = token.strip() + "=" * (-len(token.strip()) % 4)
        raw = base64.urlsafe_b64decode(padded.encode()).decode()
        number = int(raw.removeprefix(PREFIX)) if raw.startswith(PREFIX) else None
    except (binascii.Error, UnicodeError, ValueError):
        return None
    return number if number is not None and 0 < number < 2**63 else None
