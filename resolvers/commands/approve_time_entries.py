"""``approveTimeEntries``: approve submitted time entries (one command for the whole batch)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row

from readmodel.enums import TimeEntryStatus
from readmodel.raw_reads import Reading
from resolvers.commands.accept import Write, accept_command
from resolvers.commands.errors import CommandRefused, RefusalCode
from resolvers.commands.ownership import check_owned, live_records, owner_of, ownership_of
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

    async def build(conn: Reading) -> Write:
        owner = owner_of(ownership_of(ctx), ENTITY)
        keys = _keys(args["time_entry_ids"])
        rows = await live_records(conn, ENTITY, keys, ctx.scope)
        check = Checker()
        for index, entry in enumerate(keys):
            field = f"timeEntryIds[{index}]"
            row = rows.get(entry)
            if row is None:
                raise CommandRefused(RefusalCode.NOT_FOUND, f"{field}: no such time entry")
            check_owned(row, ENTITY, owner, field)
            if row.status != TimeEntryStatus.SUBMITTED:
                check.add(field, f"only submitted time can be approved (this is {row.status})")
        check.refuse_if_any()
        source_ids = [rows[k].source_id for k in keys]
        payload = as_payload(time_entry_ids=source_ids)
        return Write(owner, ENTITY, source_ids[0] if len(keys) == 1 else None, payload)

    return await accept_command(ctx, KIND, key, args, build)


def _keys(ids: list[str]) -> list[int]:
    """Decode 1–100 distinct TimeEntry ids, or refuse naming each bad one."""
    check = Checker()
    if not 1 <= len(ids) <= MAX_ENTRIES:
        check.add("timeEntryIds", f"give from 1 to {MAX_ENTRIES} time entries")
    if len(set(ids)) != len(ids):
        check.add("timeEntryIds", "each time entry at most once")
    keys = [check.key(f"timeEntryIds[{i}]", gid, "TimeEntry") for i, gid in enumerate(ids)]
    check.refuse_if_any()
    return [k for k in keys if k is not None]
