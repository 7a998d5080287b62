"""The SOQL the simulator understands: the incremental-read shape connectors send.

    SELECT <fields> FROM <Type> [WHERE SystemModstamp > <datetime>] [ORDER BY SystemModstamp]
    [LIMIT <n>]

Anything else is answered like Salesforce answers a bad query: 400 ``MALFORMED_QUERY``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

PATTERN = re.compile(
    r"^SELECT\s+(?P<fields>[\w\s,.]+?)\s+FROM\s+(?P<sobject>\w+)"
    r"(?:\s+WHERE\s+SystemModstamp\s*(?P<op>>=|>)\s*(?P<since>[\dT:.\-+Z]+))?"
    r"(?:\s+ORDER\s+BY\s+SystemModstamp(?:\s+ASC)?(?:\s*,\s*Id(?:\s+ASC)?)?)?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE,
)


class MalformedQuery(ValueError):
    pass


@dataclass(frozen=True)
class Query:
    fields: tuple[str, ...]
    sobject: str
    since: datetime | None
    inclusive: bool
    limit: int | None


def parse(text: str) -> Query:
    match = PATTERN.match(text.strip())
    if match is None:
        raise MalformedQuery(f"unexpected token in query: {text[:80]!r}")
    since = match["since"]
    try:
        moment = None if since is None else datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError as error:
        raise MalformedQuery(f"bad datetime literal {since!r}") from error
    return Query(
        fields=tuple(f.strip() for f in match["fields"].split(",")),
        sobject=match["sobject"],
        since=moment,
        inclusive=match["op"] == ">=",
        limit=None if match["limit"] is None else int(match["limit"]),
    )
