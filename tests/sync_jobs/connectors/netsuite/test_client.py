"""The NetSuite client: one re-authentication on 401, errors mapped by retry policy.

The M2M login itself (assertions, token reuse, refusals) is in ``test_m2m.py``."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
import pytest

from sync_jobs.connectors.netsuite.client import NetSuiteClient
from sync_jobs.errors import PermanentSourceError, TransientSourceError
from tests.sync_jobs.connectors.netsuite.conftest import BASE, Account
from tests.systems.test_netsuite_simulator import LOGIN

QUERY = "SELECT id FROM employee"


async def test_an_expired_token_is_renewed_once(account: Account) -> None:
    client = NetSuiteClient(BASE, LOGIN, account.http)
    await client.suiteql(QUERY)
    account.sim.expire_tokens()

    body = await client.suiteql(QUERY)

    assert body["totalResults"] == len(account.records("employee"))


async def test_a_refused_login_is_permanent(account: Account) -> None:
    client = NetSuiteClient(BASE, replace(LOGIN, client_id="someone-else"), account.http)
    with pytest.raises(PermanentSourceError) as raised:
        await client.suiteql(QUERY)
    assert raised.value.code == "AUTHENTICATION_FAILED"


async def test_a_concurrency_limit_is_transient_with_retry_after(account: Account) -> None:
    await account.connector.live_ids("employee")  # authenticated
    account.faults.concurrency_limit(retry_after=7)
    with pytest.raises(TransientSourceError) as raised:
        await account.connector.live_ids("employee")
    assert raised.value.retry_after == 7 and "CONCURRENCY_LIMIT_EXCEEDED" in str(raised.value)


async def test_a_server_error_burst_is_transient(account: Account) -> None:
    await account.connector.live_ids("employee")
    account.faults.outage(times=1, status=502)
    with pytest.raises(TransientSourceError) as raised:
        await account.connector.live_ids("employee")
    assert raised.value.retry_after is None
    assert await account.connector.live_ids("employee")  # the burst is over


async def test_a_refused_request_is_permanent_with_netsuites_code(account: Account) -> None:
    await account.connector.live_ids("employee")
    account.faults.fail_next(403, "INSUFFICIENT_PERMISSION")
    with pytest.raises(PermanentSourceError) as raised:
        await account.connector.live_ids("employee")
    assert raised.value.code == "INSUFFICIENT_PERMISSION"
    assert raised.value.message == "Simulated INSUFFICIENT_PERMISSION."


class Deadline(httpx.AsyncBaseTransport):
    """httpx's read timeout, for an in-process app (``ASGITransport`` has no clock)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, seconds: float) -> None:
        self.inner, self.seconds = inner, seconds

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await asyncio.wait_for(self.inner.handle_async_request(request), self.seconds)
        except TimeoutError:
            raise httpx.ReadTimeout("timed out", request=request) from None


async def test_a_slow_answer_times_out_as_transient(account: Account) -> None:
    # A 1 s read timeout: an ordinary answer fits with room on a loaded machine; the
    # stalled one (10 s) cannot, and wait_for cancels it, so the test takes about 1 s.
    transport = Deadline(account.http._transport, 1.0)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport) as slow_http:
        client = NetSuiteClient(BASE, LOGIN, slow_http)
        await client.suiteql(QUERY)
        account.faults.delay = 10.0
        with pytest.raises(TransientSourceError, match="ReadTimeout"):
            await client.suiteql(QUERY)
