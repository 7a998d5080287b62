"""NetSuite SuiteTalk REST on the wire: OAuth 2.0 tokens, SuiteQL pages, records, errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from sync_jobs.connectors.http import body_excerpt, retry_after
from sync_jobs.connectors.login import oauth_refused
from sync_jobs.errors import PermanentSourceError, TransientSourceError
from sync_jobs.limits import SAFE_TO_REPEAT

REPEATABLE = {SAFE_TO_REPEAT: True}  # a token request changes nothing: resend it on a 5xx

REST = "/services/rest"
MAX_LIMIT = 1000  # SuiteQL's largest page
TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}


class NetSuiteClient:
    """A session with one NetSuite account (client-credentials OAuth; re-authenticates once
    on 401, since tokens expire after an hour).

    Args:
        base_url: ``https://<account>.suitetalk.api.netsuite.com`` or a simulator.
        client_id / client_secret: the integration record's credentials, from settings.
        http: a shared ``httpx.AsyncClient`` (its timeout applies; a timeout is transient).
    """

    def __init__(
        self, base_url: str, client_id: str, client_secret: str, http: httpx.AsyncClient
    ) -> None:
        self._base = base_url.rstrip("/")
        self._credentials = {"client_id": client_id, "client_secret": client_secret}
        self._http = http
        self._token: str | None = None

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
        if self._token is None:
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
        form = {"grant_type": "client_credentials", **self._credentials}
        try:
            response = await self._http.post(
                f"{self._base}{REST}/auth/oauth2/v1/token", data=form, extensions=REPEATABLE
            )
        except httpx.TransportError as error:
            raise TransientSourceError(f"netsuite unreachable: {type(error).__name__}") from None
        if response.status_code in TRANSIENT_STATUS:
            raise TransientSourceError(
                f"netsuite token endpoint: {response.status_code}",
                retry_after=retry_after(response),
            )
        if response.status_code != 200:
            raise oauth_refused("netsuite", response)
        self._token = response.json()["access_token"]


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
