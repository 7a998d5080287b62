"""Why a command was refused: a code clients can branch on, and per-field messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class RefusalCode(StrEnum):
    VALIDATION_FAILED = "VALIDATION_FAILED"  # some input fields are wrong (see fields)
    NOT_FOUND = "NOT_FOUND"  # an id names no live record
    NOT_OWNED = "NOT_OWNED"  # the record lives in a system other than the entity's owner
    NO_OWNER = "NO_OWNER"  # no system is configured to own the entity written
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"  # the key was used with other input
    INVALID_TRANSITION = "INVALID_TRANSITION"  # retry / cancel from a status that forbids it


@dataclass(frozen=True)
class FieldProblem:
    """One input field (its GraphQL name, e.g. ``amount.currency``) and what is wrong."""

    field: str
    message: str


class CommandRefused(Exception):
    """Raised before anything is logged; the mutation answers ``CommandRejected``."""

    def __init__(
        self, code: RefusalCode, message: str, fields: Sequence[FieldProblem] = ()
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = list(fields)
