"""What a connector offers the command worker: one write, applied idempotently at the source.

A connector that owns data others may change implements ``CommandWriter`` beside its read
side (``connectors/base.py``). ``apply_command`` must be safe to call again with the same
``key`` after any failure, including one where the first call's write landed but its answer
was lost: the worker cannot tell those apart, so the source must. Each connector uses the
source's own means (an upsert by external id, an idempotency key) and, where it has none, a
check before creating.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from sync_jobs.errors import PermanentSourceError

Payload = dict[str, Any]


@dataclass(frozen=True)
class WriteResult:
    """The record a command wrote, named by the connector's object type and source id.

    ``others`` holds further records of the same type when one command writes several (an
    approval of many time entries); the worker reads all of them back. ``parents`` names
    records of other types the command wrote and the record refers to, as (object type,
    source id): read back first, so the record finds its parent (a handoff's project and
    the engagement made for it).
    """

    object_type: str
    source_id: str
    others: tuple[str, ...] = ()
    parents: tuple[tuple[str, str], ...] = ()

    @property
    def source_ids(self) -> list[str]:
        return [self.source_id, *self.others]


@runtime_checkable
class CommandWriter(Protocol):
    """The write side of a connector."""

    async def apply_command(self, kind: str, payload: Payload, key: str) -> WriteResult:
        """Apply command ``kind`` with ``payload``; ``key`` is the command's external id.

        Raises ``TransientSourceError`` (retry later) or ``PermanentSourceError`` (the source
        refused; its code and message are kept for the user).
        """
        ...


class UnsupportedCommand(PermanentSourceError):
    """A command kind the target system's connector does not know: no retry will help."""

    def __init__(self, system: str, kind: str) -> None:
        super().__init__("UNSUPPORTED_COMMAND", f"{system} cannot apply {kind!r} commands")


class InvalidPayload(PermanentSourceError):
    """A payload that lacks what the write needs (the accepting side validates; this is the
    last line, so a malformed row fails once instead of retrying forever)."""

    def __init__(self, kind: str, problem: str) -> None:
        super().__init__("INVALID_PAYLOAD", f"{kind}: {problem}")
