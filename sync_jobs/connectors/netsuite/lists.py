"""NetSuite list values a write sends: ids of the account's currency list."""

from __future__ import annotations

from typing import Any

from sync_jobs.commands.writes import InvalidPayload
from sync_jobs.connectors.netsuite.fields import CURRENCIES

CURRENCY_IDS = {code: list_id for list_id, code in CURRENCIES.items()}


def currency_id(kind: str, code: Any) -> str:
    """The account's list id of ISO currency ``code``; an unknown one is ``InvalidPayload``."""
    if str(code) not in CURRENCY_IDS:
        raise InvalidPayload(kind, f"currency {code!r} is not in the account's list")
    return CURRENCY_IDS[str(code)]
