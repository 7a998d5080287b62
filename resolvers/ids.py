"""Global object ids: opaque to clients, ``base64url("<Type>:<key>")`` inside.

Every ``Node`` has one; ``node(id:)`` and the typed root fields (``account(id:)``…) decode it
and refuse ids that are malformed or name another type.
"""

from __future__ import annotations

import base64
import binascii

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
    }
)


def to_global_id(type_name: str, key: int) -> str:
    raw = f"{type_name}:{key}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def from_global_id(global_id: str, *, argument: str = "id") -> tuple[str, int]:
    """Decode any node id into ``(type name, key)``, or raise ``BadUserInput``."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, key = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        number = int(key)
    except (binascii.Error, UnicodeError, ValueError):
        message = f"{argument}: {global_id!r} is not a clientgraph id"
        raise BadUserInput(message, argument=argument) from None
    if type_name not in NODE_TYPES or number < 1:
        raise BadUserInput(f"{argument}: {global_id!r} is not a clientgraph id", argument=argument)
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
