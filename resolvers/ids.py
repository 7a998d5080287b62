"""Global object ids: opaque to clients, ``base64url("<Type>:<key>")`` inside.

Every ``Node`` has one; ``node(id:)`` and the typed root fields (``account(id:)``…) decode it
and refuse ids that are malformed or name another type.
"""

from __future__ import annotations

import base64
import binascii
import re

from resolvers.errors import BadUserInput

NODE_TYPES = frozenset(
    {
        "Account",
        "Contact",
        "Opportunity",
        "Engagement",
        "Project",
        "Milestone",
        "Invoice",
        "Payment",
        "Person",
        "TimeEntry",
        "Command",
        "Handoff",
        "IntegrationException",
    }
)


def to_global_id(type_name: str, key: int) -> str:
    raw = f"{type_name}:{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


MAX_KEY = 2**63 - 1  # a BIGINT
KEY = re.compile(r"[1-9][0-9]{0,18}")
MAX_ID_LENGTH = 64


def from_global_id(global_id: str, *, argument: str = "id") -> tuple[str, int]:
    """Decode any node id into ``(type name, key)``, or raise ``BadUserInput``.

    Only the canonical form decodes: the exact text ``to_global_id`` makes (no padding, no
    other base64 alphabet, ASCII digits only, no sign, space or leading zero, within BIGINT),
    so one record has one id and an id never reaches the database out of range.
    """
    message = f"{argument}: {global_id[:MAX_ID_LENGTH]!r} is not a clientgraph id"
    if len(global_id) > MAX_ID_LENGTH:
        raise BadUserInput(message, argument=argument)
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise BadUserInput(message, argument=argument) from None
    type_name, _, key = raw.partition(":")
    if type_name not in NODE_TYPES or not KEY.fullmatch(key) or int(key) > MAX_KEY:
        raise BadUserInput(message, argument=argument)
    number = int(key)
    if to_global_id(type_name, number) != global_id:
        raise BadUserInput(message, argument=argument)
    return type_name, number


def key_of(global_id: str, expected_type: str, *, argument: str = "id") -> int:
    """Decode an id that must name an ``expected_type``; return its key."""
    type_name, key = from_global_id(global_id, argument=argument)
    if type_name != expected_type:
        raise BadUserInput(
            f"{argument}: expected an id of a {expected_type}, got one of a {type_name}",
            argument=argument,
        )
    return key
