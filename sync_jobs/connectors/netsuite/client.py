"""NetSuite SuiteTalk REST on the wire: OAuth 2.0 tokens, SuiteQL pages, records, errors."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from clientgraph.settings import env_name
from sync_jobs.connectors.http import body_excerpt, retry_after
from sync_jobs.connectors.login import oauth_refused
from sync_jobs.connectors.netsuite.m2m import (
    RENEW_BEFORE_SECONDS,
    TOKEN_PATH,
    M2MLogin,
    Signer,
    signer,
)
from sync_jobs.errors import PermanentSourceError, TransientSourceError
from sync_jobs.limits import SAFE_TO_REPEAT

M2M_SETTINGS = [
    env_name("netsuite", n) for n in ("client_id", "certificate_id", "private_key", "base_url")
]
REPEATABLE = {SAFE_TO_REPEAT: True}  # a token request changes nothing: resend it on a 5xx

REST = "/services/rest"
MAX_LIMIT = 1000  # SuiteQL's largest page
TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}


class NetSuiteClient:
    """A session with one NetSuite account: machine-to-machine OAuth (``m2m``), one access
    token reused until shortly before it expires, and one new token and retry on a 401.

    Args:
        base_url: ``https://<account>.suitetalk.api.netsuite.com`` or a simulator.
        login: the integration's client id, certificate id, private key and scope.
        http: a shared ``httpx.AsyncClient`` (its timeout applies; a timeout is transient).
    """

    def __init__(self, base_url: str, login: M2MLogin, http: httpx.AsyncClient) -> None:
        self._base = base_url.rstrip("/")
        self._login = login
        self._signer: Signer | None = None
        self._http = http
        self._token: str | None = None
        self._renew_at = 0.0  # monotonic seconds
        self.logins = 0  # token requests made (tests count reuse)

    async def suiteql(self, query: str, *, limit: int = MAX_LIMIT, offset: int = 0) -> Any:
        """One page of a SuiteQL query: ``{items, hasMore, offset, totalResults, ...}``."""
        params = {"limit": str(limit), "offset": str(offset)}
        return await self._call(
            "POST",
            f"{REST}/query/v1/suiteql",
            params=params,
            body={"q": query},
            headers={"Prefer": "transient"},
        )

    async def suiteql_all(self, query: str) -> AsyncIterator[list[dict[str, Any]]]:
        """Every page of a SuiteQL query, following ``hasMore`` by offset."""
        offset = 0
        while True:
            body = await self.suiteql(query, offset=offset)
            yield body["items"]
            if not body["hasMore"]:
                return
            offset += len(body["items"])

    async def get_record(self, record_type: str, record_id: str) -> dict[str, Any] | None:
        """One record from the record API, or ``None`` when NetSuite has no such record."""
        try:
            body: dict[str, Any] = await self._call(
                "GET", f"{REST}/record/v1/{record_type}/{record_id}"
            )
        except PermanentSourceError as error:
            if error.code == "NONEXISTENT_ID" or error.code == "HTTP_404":
                return None
            raise
        return body

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        return _decode(
            await self._exchange(method, path, params=params, body=body, headers=headers)
        )

    async def upsert(self, record_type: str, external_id: str, fields: dict[str, Any]) -> str:
        """``PUT /record/v1/<type>/eid:<externalId>``: creates the record the first time and
        updates that same record on every repeat. Returns its internal id (from ``Location``
        on a create; an update answers without one, so it is looked up by external id)."""
        key = f"eid:{quote(external_id, safe='')}"
        response = await self._exchange("PUT", f"{REST}/record/v1/{record_type}/{key}", body=fields)
        _decode(response)
        location = response.headers.get("Location")
        if location:
            return location.rstrip("/").rsplit("/", 1)[-1]
        record = await self.get_record(record_type, key)
        if record is None:  # deleted between our write and our read: try the command again
            raise TransientSourceError(f"netsuite {record_type} {key} vanished after its upsert")
        return str(record["id"])

    async def update(self, record_type: str, record_id: str, fields: dict[str, Any]) -> None:
        """``PATCH /record/v1/<type>/<id>`` (204): sets the given fields, so a repeat is
        harmless."""
        path = f"{REST}/record/v1/{record_type}/{quote(record_id, safe='')}"
        _decode(await self._exchange("PATCH", path, body=fields))

    async def _exchange(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        if self._token is None or time.monotonic() >= self._renew_at:
            await self._authenticate()
        response = await self._send(method, path, params, body, headers)
        if response.status_code == 401:  # the token expired: one new one, one retry
            await self._authenticate()
            response = await self._send(method, path, params, body, headers)
        return response

    async def _send(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        body: Any,
        headers: dict[str, str] | None,
    ) -> httpx.Response:
        auth = {"Authorization": f"Bearer {self._token}", **(headers or {})}
        content = None if body is None else json.dumps(body, default=_wire_value)
        if content is not None:
            auth["Content-Type"] = "application/json"
        try:
            return await self._http.request(
                method,
                self._base + path,
                params=params,
                content=content,
                headers=auth,
                extensions={SAFE_TO_REPEAT: path.endswith("/suiteql")},  # a read sent as POST
            )
        except httpx.TransportError as error:  # timeouts included
            raise TransientSourceError(f"netsuite unreachable: {type(error).__name__}") from None

    async def _authenticate(self) -> None:
        if self._signer is None:
            self._signer = signer(self._login)  # LoginFailed names the settings to fix
        token_url = self._base + TOKEN_PATH
        form = self._signer.form(token_url, int(time.time()))
        self.logins += 1
        try:  # resent as-is after a 5xx: the assertion stays valid for ASSERTION_SECONDS
            response = await self._http.post(token_url, data=form, extensions=REPEATABLE)
        except httpx.TransportError as error:
            raise TransientSourceError(f"netsuite unreachable: {type(error).__name__}") from None
        if response.status_code in TRANSIENT_STATUS:
            raise TransientSourceError(
                f"netsuite token endpoint: {response.status_code}",
                retry_after=retry_after(response),
            )
        if response.status_code != 200:
            what = "client assertion"
            raise oauth_refused("netsuite", response, what=what, settings=M2M_SETTINGS)
        body = response.json()
        self._token = body["access_token"]
        lifetime = float(body.get("expires_in") or 3600)
        self._renew_at = time.monotonic() + max(lifetime - RENEW_BEFORE_SECONDS, lifetime / 2)


def _decode(response: httpx.Response) -> Any:
    """The JSON body (numbers as exact Decimals), or the right error for the status."""
    if response.status_code == 204:
        return None
    if response.status_code < 300:
        return json.loads(response.text, parse_float=Decimal)
    code, detail = _first_error(response)
    if response.status_code in TRANSIENT_STATUS:
        raise TransientSourceError(
            f"{response.status_code} {code}: {detail}", retry_after=retry_after(response)
        )
    raise PermanentSourceError(code, detail)


def _wire_value(value: Any) -> Any:
    """JSON for a write: a ``Decimal`` as a number (``float`` repeats any amount of up to 15
    significant digits exactly), dates and datetimes as ISO text (UTC with ``Z``)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__}")


def _first_error(response: httpx.Response) -> tuple[str, str]:
    """NetSuite's ``o:errorDetails[0]``: its ``o:errorCode`` and ``detail``."""
    try:
        first = response.json()["o:errorDetails"][0]
        return str(first["o:errorCode"]), str(first["detail"])
    except (ValueError, LookupError, TypeError):
        return f"HTTP_{response.status_code}", body_excerpt(response)
