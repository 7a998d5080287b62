"""The JSON-RPC client: a live server for the session and errors, a mock for the wire's edges."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sync_jobs.connectors.tryton.client import TrytonClient, decode_tagged, encode
from sync_jobs.errors import PermanentSourceError, TransientSourceError
from systems.tryton.server import free_port

# Slow (a live Tryton): `make test-fast` leaves it out.
pytestmark = pytest.mark.slow


async def test_login_loads_the_users_context(rpc: TrytonClient) -> None:
    await rpc.login()

    assert rpc.context["company"] > 0
    assert rpc.context["language"] == "en"


async def test_a_user_error_surfaces_trytons_code_and_message(rpc: TrytonClient) -> None:
    (posted, *_) = await rpc.search("account.invoice", [["state", "=", "posted"]])

    with pytest.raises(PermanentSourceError) as raised:
        await rpc.delete("account.invoice", [posted])

    assert raised.value.code == "UserError"
    assert "posted" in raised.value.message


async def test_an_expired_session_logs_in_again_once(rpc: TrytonClient) -> None:
    await rpc.login()
    rpc._session = "Session " + "eDp4Ong="  # what a restarted server says of an old token

    assert await rpc.search("party.party", [["id", "=", 1]]) == [1]


async def test_a_wrong_password_is_permanent() -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(_refuse_login)) as http:
        client = TrytonClient("http://tryton.test", "db", "admin", "wrong", http)
        with pytest.raises(PermanentSourceError):
            await client.login()


async def test_an_unreachable_server_is_transient() -> None:
    async with httpx.AsyncClient() as http:
        client = TrytonClient(f"http://127.0.0.1:{free_port()}", "db", "admin", "pw", http)
        with pytest.raises(TransientSourceError):
            await client.login()


@pytest.mark.parametrize("status", [429, 503])
async def test_busy_servers_are_transient_with_retry_after(status: int) -> None:
    def busy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers={"Retry-After": "7"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(busy)) as http:
        client = TrytonClient("http://tryton.test", "db", "admin", "pw", http)
        with pytest.raises(TransientSourceError) as raised:
            await client.login()
    assert raised.value.retry_after == 7


def test_tagged_values_decode_to_exact_python() -> None:
    body = json.dumps(
        {
            "amount": {"__class__": "Decimal", "decimal": "675.10"},
            "stamp": {"__class__": "datetime", "year": 2026, "month": 6, "day": 30,
                      "hour": 12, "minute": 0, "second": 1, "microsecond": 5},
            "day": {"__class__": "date", "year": 2026, "month": 6, "day": 30},
            "spent": {"__class__": "timedelta", "seconds": 5400.0},
        }
    )  # fmt: skip
    decoded = json.loads(body, object_hook=decode_tagged, parse_float=Decimal)

    assert decoded["amount"] == Decimal("675.10")
    assert decoded["stamp"] == datetime(2026, 6, 30, 12, 0, 1, 5, tzinfo=UTC)
    assert decoded["day"] == date(2026, 6, 30)
    assert decoded["spent"] == timedelta(hours=1, minutes=30)


def test_values_encode_to_tags_that_decode_back() -> None:
    values: list[Any] = [
        Decimal("0.10"),
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        date(2026, 1, 2),
    ]

    assert [decode_tagged(encode(v)) for v in values] == values


def _refuse_login(request: httpx.Request) -> httpx.Response:
    return httpx.Response(401)
