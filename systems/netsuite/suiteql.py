"""The SuiteQL the simulator understands: the shapes the connector sends, nothing more.

    SELECT * | <columns> FROM <table>
    [WHERE lastmodifieddate >= '<ISO timestamp>' | WHERE <column> = '<text>']
    [ORDER BY lastmodifieddate, id | ORDER BY id]

The equality filter is how the handoff asks for a deal's project (``custentity_cg_opportunity
= '006…'``); references compare by their id, as SuiteQL compares them.

Anything else is refused as NetSuite refuses a query it cannot run: 400 ``INVALID_PARAMETER``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

PATTERN = re.compile(
    r"^SELECT\s+(?P<columns>\*|[\w\s,]+?)\s+FROM\s+(?P<table>\w+)"
    r"(?:\s+WHERE\s+(?:lastmodifieddate\s*>=\s*'(?P<since>[^']+)'"
    r"|(?P<column>\w+)\s*=\s*'(?P<equals>[^']*)'))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>lastmodifieddate(?:\s+ASC)?\s*,\s*id|id)(?:\s+ASC)?)?\s*$",
    re.IGNORECASE,
)


class InvalidQuery(ValueError):
    """A query outside the supported subset, or with a bad literal."""


@dataclass(frozen=True)
class Query:
    columns: tuple[str, ...] | None  # None: every column (``SELECT *``)
    table: str
    since: datetime | None
    equals: tuple[str, str] | None  # (column, text): WHERE column = 'text'
    by_stamp: bool  # ORDER BY lastmodifieddate, id (else by id)


def parse(text: str) -> Query:
    """The parts of a supported query; ``InvalidQuery`` names what is wrong."""
    match = PATTERN.match(text.strip())
    if match is None:
        raise InvalidQuery(f"Invalid search query. Unsupported SuiteQL: {text[:120]!r}")
    columns = match["columns"].strip()
    return Query(
        columns=None if columns == "*" else tuple(c.strip().lower() for c in columns.split(",")),
        table=match["table"].lower(),
        since=_since(match["since"]),
        equals=None if match["column"] is None else (match["column"].lower(), match["equals"]),
        by_stamp=(match["order"] or "").lower().startswith("lastmodifieddate"),
    )


def _since(literal: str | None) -> datetime | None:
    if literal is None:
        return None
    try:
        moment = datetime.fromisoformat(literal.replace("Z", "+00:00"))
    except ValueError as error:
        raise InvalidQuery(f"Invalid date/time value: {literal!r}") from error
    return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)
