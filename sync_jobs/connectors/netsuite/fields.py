"""NetSuite field values → Python values: the SuiteQL row shape, stamps, money, lists.

Pure functions shared by the mappers (``mapping.py``). Amounts and hours arrive as JSON
numbers read as ``Decimal`` (never ``float``) and become exact hundredths.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from readmodel.money import decimal_to_minor
from sync_jobs.rows import CanonicalRow, Ref

SYSTEM = "netsuite"
Row = dict[str, Any]

# The account's lists (internal id → meaning). An unknown currency is refused (amounts would
# be read in the wrong one); other unknown list values fall back to a safe default.
CURRENCIES = {"1": "USD", "2": "GBP", "3": "CAD", "4": "EUR"}
TERM_DAYS = {"1": 15, "2": 30, "3": 45, "4": 60, "5": 0}
JOB_STATUS = {"1": "closed", "2": "active", "3": "completed", "4": "setup", "5": "on_hold"}
TIME_STATUS = {"1": "submitted", "2": "approved", "3": "rejected", "4": "draft"}
INVOICE_STATUS = {"D": "draft", "B": "paid", "V": "void"}  # "A" (open): by amount remaining
DEFAULT_TERMS_DAYS = 30


def flatten(record: dict[str, Any]) -> Row:
    """A record-API record in SuiteQL's shape: lower-case keys, ``{"id": x}`` → ``x``."""
    return {
        key.lower(): value.get("id") if isinstance(value, dict) else value
        for key, value in record.items()
        if key != "links"
    }


def stamp(row: Row) -> datetime:
    """``lastmodifieddate`` (ISO, ``Z``) → an aware UTC datetime."""
    return moment(row["lastmodifieddate"]) or datetime.min.replace(tzinfo=UTC)


def deletion(table: str, record_id: str, at: datetime) -> CanonicalRow:
    """A record NetSuite no longer has (a hard delete), seen at ``at``."""
    return CanonicalRow(table, SYSTEM, str(record_id), at, deleted_at=at)


def row_of(table: str, row: Row, values: dict[str, Any]) -> CanonicalRow:
    """A live record of ``table``, versioned by its ``lastmodifieddate``."""
    return CanonicalRow(table, SYSTEM, str(row["id"]), stamp(row), values)


def ref(table: str, value: Any) -> Ref | None:
    """A NetSuite reference (a bare id) to a parent of ``table``; empty → ``None``."""
    return None if value in (None, "") else Ref(table, SYSTEM, str(value))


def flag(value: Any) -> bool:
    """SuiteQL says ``"T"``/``"F"``, the record API ``true``/``false``."""
    return value is True or value == "T"


def day(value: Any) -> date | None:
    return None if value in (None, "") else date.fromisoformat(str(value)[:10])


def moment(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def hundredths(value: Any) -> int:
    """An amount or a number of hours (JSON number, read as ``Decimal``) → hundredths."""
    return 0 if value in (None, "") else decimal_to_minor(Decimal(str(value)))


def currency(value: Any) -> str:
    """An ISO code for the account's currency id; an unknown id is a setup error, not a
    guess (amounts in the wrong currency would be silently wrong)."""
    try:
        return CURRENCIES[str(value)]
    except KeyError:
        raise ValueError(f"netsuite currency {value!r} is not in the account's list") from None


def domain(row: Row) -> str | None:
    """The client's web domain: its ``url`` without the scheme, else its email's domain."""
    url = str(row.get("url") or "")
    if url:
        return url.split("://", 1)[-1].rstrip("/")
    email = str(row.get("email") or "")
    return email.partition("@")[2] or None
