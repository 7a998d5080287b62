"""``approveTimeEntries``: approve submitted time entries (one command for the whole batch)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row

from readmodel.enums import TimeEntryStatus
from resolvers.commands.accept import Write, accept_command
from resolvers.commands.ownership import owner_of, ownership_of
from resolvers.commands.validation import Checker, as_payload
from resolvers.context import Context

KIND = "approve_time_entries"
ENTITY = "time_entry"
MAX_ENTRIES = 100  # one command, one call to the source: keep batches a source accepts


async def approve_time_entries(ctx: Context, key: str, args: Mapping[str, Any]) -> Row[Any]:
    """Accept the approval of 1–100 distinct entries, all SUBMITTED in the read model.

    The command targets a record only when it approves exactly one entry; the payload
    always lists every entry's source id.
    """

    def build(check: Checker) -> Write:
        owner = owner_of(ownership_of(ctx), ENTITY)
        keys = _keys(check, args["time_entry_ids"])
        fields = [f"timeEntryIds[{index}]" for index in range(len(keys))]
        rows = check.targets_of(ENTITY, keys, owner, fields)
        check.expect(
            rows.status,
            TimeEntryStatus.SUBMITTED,
            lambda r: f"only submitted time can be approved (this is {r.status})",
        )
        payload = as_payload(time_entry_ids=rows.source_id)
        target = rows.single("source_id") if len(keys) == 1 else None
        return Write(owner, ENTITY, target, payload)

    return await accept_command(ctx, KIND, key, args, build)


def _keys(check: Checker, ids: list[str]) -> list[int]:
    """Decode 1–100 distinct TimeEntry ids, or refuse naming each bad one."""
    if not 1 <= len(ids) <= MAX_ENTRIES:
        check.add("timeEntryIds", f"give from 1 to {MAX_ENTRIES} time entries")
    if len(set(ids)) != len(ids):
        check.add("timeEntryIds", "each time entry at most once")
    keys = [check.key(f"timeEntryIds[{i}]", gid, "TimeEntry") for i, gid in enumerate(ids)]
    check.refuse_if_any()
    return [k for k in keys if k is not None]
