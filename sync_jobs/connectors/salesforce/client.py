"""Salesforce REST on the wire: OAuth, SOQL paging, error envelopes, limits."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from sync_jobs.connectors.http import body_excerpt, retry_after
from sync_jobs.connectors.login import oauth_refused
from sync_jobs.errors import PermanentSourceError, QuotaExhausted, TransientSourceError
from sync_jobs.limits import SAFE_TO_REPEAT

REPEATABLE = {SAFE_TO_REPEAT: True}  # a token request changes nothing: resend it on a 5xx

API_VERSION = "v60.0"
TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}


class SalesforceClient:
    """A session with one Salesforce org (client-credentials OAuth; re-authenticates once on 401).

    Args:
        base_url: the org's URL (``https://<domain>.my.salesforce.com`` or a simulator).
        client_id / client_secret: the connected app's credentials, from settings.
        http: a shared ``httpx.AsyncClient``.
    """

    def __init__(
        self, base_url: str, client_id: str, client_secret: str, http: httpx.AsyncClient
    ) -> None:
        self._base = base_url.rstrip("/")
        self._credentials = {"client_id": client_id, "client_secret": client_secret}
        self._http = http
        self._token: str | None = None
        self.api_usage: str | None = None

    async def query(self, soql: str, *, include_deleted: bool = False) -> AsyncIterator[list[Any]]:
        """Pages of records for ``soql``, following ``nextRecordsUrl`` until ``done``."""
        path = f"/services/data/{API_VERSION}/{'queryAll' if include_deleted else 'query'}"
        body = await self._get(path, {"q": soql})
        while True:
            yield body["records"]
            if body["done"]:
                return
            body = await self._get(body["nextRecordsUrl"], None)

    async def retrieve(
        self, sobject: str, record_id: str, fields: Sequence[str]
    ) -> dict[str, Any] | None:
        """``GET /sobjects/<Type>/<id>``: the record, or ``None`` when the org has no live
        record with that id (404 ``NOT_FOUND``: deleted, or never existed)."""
        path = f"/services/data/{API_VERSION}/sobjects/{sobject}/{quote(record_id, safe='')}"
        response = await self._authorized(path, {"fields": ",".join(fields)})
        if response.status_code == 404 and _first_error(response)[0] == "NOT_FOUND":
            return None
        record: dict[str, Any] = _decode(response)
        return record

    async def update(self, sobject: str, record_id: str, fields: dict[str, Any]) -> None:
        """``PATCH /sobjects/<Type>/<id>`` (204). Setting fields to the values they already
        have changes nothing else, so a repeat of the same update is harmless."""
        path = f"/services/data/{API_VERSION}/sobjects/{sobject}/{quote(record_id, safe='')}"
        response = await self._authorized(path, None, "PATCH", fields)
        if response.status_code != 204:
            _decode(response)  # raises the typed error; any other 2xx carries nothing we need

    async def _get(self, path: str, params: dict[str, str] | None) -> Any:
        return _decode(await self._authorized(path, params))

    async def _authorized(
        self, path: str, params: dict[str, str] | None, method: str = "GET", body: Any = None
    ) -> httpx.Response:
        """Send with the session token, authenticating first or again after a 401."""
        if self._token is None:
            await self._authenticate()
        response = await self._send(path, params, method, body)
        if response.status_code == 401:
            await self._authenticate()
            response = await self._send(path, params, method, body)
        return response

    async def _send(
        self, path: str, params: dict[str, str] | None, method: str = "GET", body: Any = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token}"}
        content = None if body is None else json.dumps(body, default=_wire_number)
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = await self._http.request(
                method, self._base + path, params=params, headers=headers, content=content
            )
        except httpx.TransportError as error:
            raise TransientSourceError(f"salesforce unreachable: {type(error).__name__}") from None
        self.api_usage = response.headers.get("Sforce-Limit-Info", self.api_usage)
        return response

    async def _authenticate(self) -> None:
        form = {"grant_type": "client_credentials", **self._credentials}
        try:
            response = await self._http.post(
                f"{self._base}/services/oauth2/token", data=form, extensions=REPEATABLE
            )
        except httpx.TransportError as error:
            raise TransientSourceError(f"salesforce unreachable: {type(error).__name__}") from None
        if response.status_code in TRANSIENT_STATUS:
            raise TransientSourceError(
                f"salesforce token endpoint: {response.status_code}",
                retry_after=retry_after(response),
            )
        if response.status_code != 200:
            raise oauth_refused("salesforce", response)
        self._token = response.json()["access_token"]


def _decode(response: httpx.Response) -> Any:
    """The JSON body (numbers as exact Decimals), or the right error for the status."""
    if response.status_code < 300:
        return json.loads(response.text, parse_float=Decimal)
    code, message = _first_error(response)
    wait = retry_after(response)
    if code == "REQUEST_LIMIT_EXCEEDED" and response.status_code == 403:
        raise QuotaExhausted(f"{code}: {message}", retry_after=wait)
    if response.status_code in TRANSIENT_STATUS:
        raise TransientSourceError(f"{response.status_code} {code}: {message}", retry_after=wait)
    raise PermanentSourceError(code, message)


def _wire_number(value: Any) -> Any:
    """A ``Decimal`` as a JSON number: ``float`` repeats any amount of up to 15 significant
    digits exactly, which covers every currency field Salesforce holds."""
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot send {type(value).__name__}")


def _first_error(response: httpx.Response) -> tuple[str, str]:
    try:
        errors = response.json()
        return str(errors[0]["errorCode"]), str(errors[0]["message"])
    except (ValueError, LookupError, TypeError):
        return f"HTTP_{response.status_code}", body_excerpt(response)
