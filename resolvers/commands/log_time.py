"""``logTime``: record hours a person worked on a project, in the system that owns time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row

from resolvers.commands.accept import Write, accept_command
from resolvers.commands.ownership import owner_of, ownership_of
from resolvers.commands.validation import Checker, as_payload
from resolvers.context import Context

KIND = "log_time"
ENTITY = "time_entry"
MAX_NOTE = 1000


async def log_time(ctx: Context, key: str, args: Mapping[str, Any]) -> Row[Any]:
    """Accept a new time entry; its project and person must be records of the owner of time.

    The entry does not exist yet, so the command has no target record until the executor
    learns the id the source gave it.
    """

    def build(check: Checker) -> Write:
        owner = owner_of(ownership_of(ctx), ENTITY)
        project = check.key("projectId", args["project_id"], "Project")
        person = check.key("personId", args["person_id"], "Person")
        work_date = check.iso_date("workDate", args["work_date"])
        hours = check.hours("hours", args["hours"])
        check.text("note", args.get("note"), max_length=MAX_NOTE, required=False)
        check.refuse_if_any()
        assert project is not None and person is not None
        project_row = check.target("project", project, owner, "projectId")
        person_row = check.target("person", person, owner, "personId")
        payload = as_payload(
            project_id=project_row.source_id,
            person_id=person_row.source_id,
            work_date=work_date,
            hours=hours,
            billable=bool(args.get("billable", True)),
            currency=project_row.currency,
            note=args.get("note"),
        )
        return Write(owner, ENTITY, None, payload)

    return await accept_command(ctx, KIND, key, args, build)
