"""NetSuite's JSON on the wire: records, SuiteQL rows, stamps and the error envelope."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from starlette.responses import JSONResponse

Record = dict[str, Any]
STATUS_TYPES = {
    400: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1", "Bad Request"),
    401: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2", "Unauthorized"),
    403: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.4", "Forbidden"),
    404: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5", "Not Found"),
    429: ("https://www.rfc-editor.org/rfc/rfc6585.html#section-4", "Too Many Requests"),
    500: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1", "Internal Server Error"),
    503: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.4", "Service Unavailable"),
}


def ns_time(value: datetime) -> str:
    """NetSuite's ISO stamp in UTC with milliseconds: ``2026-06-30T12:00:00.000Z``."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_ns_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


class NetSuiteJSON(JSONResponse):
    """JSON with exact numbers: a ``Decimal`` goes out as a JSON number, dates as ISO text."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=_plain, separators=(",", ":")).encode()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        # float() is exact for the ≤ 15 significant digits of any amount the firm holds:
        # its repr is the shortest text that reads back as the same number.
        return float(value)
    if isinstance(value, datetime):
        return ns_time(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def record_body(record_type: str, record: Record, base: str) -> Record:
    """A record as ``GET /record/v1/<type>/<id>`` returns it: empty fields are left out."""
    links = [{"rel": "self", "href": f"{base}/{record_type}/{record['id']}"}]
    return {"links": links, **{k: v for k, v in record.items() if v is not None}}


def suiteql_row(record: Record, columns: tuple[str, ...] | None) -> Record:
    """A record as a SuiteQL row: lower-case column names, references as bare ids,
    booleans as ``"T"``/``"F"``, empty columns left out (as SuiteQL does)."""
    row = {k.lower(): _column(v) for k, v in record.items() if v is not None}
    if columns is not None:
        row = {c: row[c] for c in columns if c in row}
    return {"links": [], **row}


def _column(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("id")
    if isinstance(value, bool):
        return "T" if value else "F"
    return value


def columns_of(record: Record) -> set[str]:
    return {k.lower() for k in record}


def error(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> NetSuiteJSON:
    """NetSuite's error envelope: ``{type, title, status, o:errorDetails: [...]}``."""
    kind, title = STATUS_TYPES.get(status, ("about:blank", "Error"))
    body = {
        "type": kind,
        "title": title,
        "status": status,
        "o:errorDetails": [{"detail": detail, "o:errorCode": code}],
    }
    return NetSuiteJSON(body, status, headers=headers)


def page(items: list[Any], total: int, offset: int, links: list[Record]) -> Record:
    """The collection envelope of the record API and SuiteQL."""
    return {
        "links": links,
        "count": len(items),
        "hasMore": offset + len(items) < total,
        "items": items,
        "offset": offset,
        "totalResults": total,
    }
