"""HubSpot's CRM API on the wire: a private app's token, objects, search, associations, errors.

- Auth: ``Authorization: Bearer <private app access token>`` on every call; no token exchange.
- Objects (v3): ``GET /crm/v3/objects/<type>?limit=&after=&properties=&archived=`` →
  ``{results: [{id, properties: {…strings}, createdAt, updatedAt, archived[, archivedAt]}],
  paging: {next: {after}}}``; ``GET …/<type>/<id>?properties=&associations=`` (404 when the
  record is archived or never existed); ``PATCH …/<type>/<id>`` ``{properties}``.
- Batch read: ``POST /crm/v3/objects/<type>/batch/read`` ``{properties, inputs: [{id}]}`` →
  ``{status, results}`` (207 with ``errors`` naming the ids it lacks).
- Search: ``POST /crm/v3/objects/<type>/search`` ``{filterGroups, sorts, properties, limit,
  after}`` → ``{total, results, paging}``; ``limit`` ≤ 200, and paging past 10,000 results is
  refused (400), so the connector restarts its window from the last stamp it read.
- Associations (v4): ``POST /crm/v4/associations/<from>/<to>/batch/read`` ``{inputs: [{id}]}``
  → ``{status, results: [{from: {id}, to: [{toObjectId, associationTypes}]}]}``.
- Pipelines: ``GET /crm/v3/pipelines/deals`` → stages with ``metadata.isClosed`` and
  ``metadata.probability`` (a won stage is closed with probability 1).
- Errors: ``{status: "error", message, correlationId, category}``; 429 adds ``errorType:
  RATE_LIMIT`` and ``policyName`` (``TEN_SECONDLY_ROLLING`` / ``SECONDLY``: wait; ``DAILY``:
  the day's quota is spent). Answers carry ``X-HubSpot-RateLimit-*`` headers, kept in
  ``rate_limit`` for operators.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from clientgraph.settings import env_name
from sync_jobs.connectors.http import body_excerpt, retry_after
from sync_jobs.errors import (
    LoginFailed,
    PermanentSourceError,
    QuotaExhausted,
    TransientSourceError,
)
from sync_jobs.limits import SAFE_TO_REPEAT

READ = {SAFE_TO_REPEAT: True}  # searches and batch reads are POSTs that change nothing
TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}
SEARCH_LIMIT = 200  # HubSpot's largest search page
LIST_LIMIT = 100  # HubSpot's largest list page
BATCH_LIMIT = 100  # ids in one batch read
SEARCH_WINDOW = 10_000  # results one search can page through
DAILY_POLICY = "DAILY"
RATE_HEADER_PREFIX = "x-hubspot-ratelimit-"

Record = dict[str, Any]


class HubSpotClient:
    """One HubSpot account through a private app's access token.

    Args:
        base_url: ``https://api.hubapi.com`` (or a simulator).
        access_token: the private app's token, from settings.
        http: a shared ``httpx.AsyncClient`` (with the source's limits).
    """

    def __init__(self, base_url: str, access_token: str, http: httpx.AsyncClient) -> None:
        self._base = base_url.rstrip("/")
        self._token = access_token
        self._http = http
        self.rate_limit: dict[str, str] = {}  # the last X-HubSpot-RateLimit-* headers seen

    async def search(
        self,
        object_type: str,
        *,
        stamp: str,
        since_ms: int,
        properties: Sequence[str],
        after: str | None = None,
        limit: int = SEARCH_LIMIT,
    ) -> Record:
        """One page of records modified at or after ``since_ms``, oldest first."""
        body: Record = {
            "filterGroups": [
                {"filters": [{"propertyName": stamp, "operator": "GTE", "value": str(since_ms)}]}
            ],
            "sorts": [{"propertyName": stamp, "direction": "ASCENDING"}],
            "properties": list(properties),
            "limit": limit,
        }
        if after is not None:
            body["after"] = after
        path = f"/crm/v3/objects/{object_type}/search"
        return await self._json("POST", path, body=body, extensions=READ)

    async def list_pages(
        self, object_type: str, properties: Sequence[str], *, archived: bool = False
    ) -> AsyncIterator[list[Record]]:
        """Every record (or every archived one), a page at a time, following ``after``."""
        params = {"limit": str(LIST_LIMIT), "properties": ",".join(properties)}
        params["archived"] = "true" if archived else "false"
        after: str | None = None
        while True:
            page = await self._json(
                "GET", f"/crm/v3/objects/{object_type}", params=_with(params, after=after)
            )
            yield page["results"]
            after = _next_after(page)
            if after is None:
                return

    async def get(
        self, object_type: str, object_id: str, properties: Sequence[str]
    ) -> Record | None:
        """One live record, or ``None`` if HubSpot has none with that id (archived or never)."""
        params = {"properties": ",".join(properties)}
        path = f"/crm/v3/objects/{object_type}/{quote(object_id, safe='')}"
        response = await self._send("GET", path, params=params)
        if response.status_code == 404:
            return None
        record: Record = _decode(response)
        return record

    async def batch_read(
        self, object_type: str, ids: Sequence[str], properties: Sequence[str]
    ) -> list[Record]:
        """The live records among ``ids`` (``POST …/<type>/batch/read``, 100 ids a call); an
        archived or unknown id is simply absent (HubSpot answers 207 with its error)."""
        found: list[Record] = []
        path = f"/crm/v3/objects/{object_type}/batch/read"
        for start in range(0, len(ids), BATCH_LIMIT):
            inputs = [{"id": i} for i in ids[start : start + BATCH_LIMIT]]
            body = {"properties": list(properties), "inputs": inputs}
            found.extend((await self._json("POST", path, body=body, extensions=READ))["results"])
        return found

    async def associations(
        self, from_type: str, to_type: str, ids: Sequence[str]
    ) -> dict[str, list[str]]:
        """Each id's associated ``to_type`` ids (v4 batch read); primary associations first."""
        if not ids:
            return {}
        path = f"/crm/v4/associations/{from_type}/{to_type}/batch/read"
        body = {"inputs": [{"id": i} for i in ids]}
        answer = await self._json("POST", path, body=body, extensions=READ)
        found: dict[str, list[str]] = {}
        for result in answer.get("results", []):
            targets = sorted(result.get("to", []), key=_primary_first)
            found[str(result["from"]["id"])] = [str(t["toObjectId"]) for t in targets]
        return found

    async def pipelines(self, object_type: str = "deals") -> list[Record]:
        """The object's pipelines with their stages."""
        results: list[Record] = (await self._json("GET", f"/crm/v3/pipelines/{object_type}"))[
            "results"
        ]
        return results

    async def update(self, object_type: str, object_id: str, properties: Record) -> Record:
        """``PATCH /crm/v3/objects/<type>/<id>``: sets the given properties (a repeat sets
        the same values again)."""
        path = f"/crm/v3/objects/{object_type}/{quote(object_id, safe='')}"
        return await self._json("PATCH", path, body={"properties": properties})

    async def _json(self, method: str, path: str, **options: Any) -> Record:
        result: Record = _decode(await self._send(method, path, **options))
        return result

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        extensions: dict[str, Any] | None = None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token}"}
        content = None if body is None else json.dumps(body)
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = await self._http.request(
                method,
                self._base + path,
                params=params,
                headers=headers,
                content=content,
                extensions=extensions,
            )
        except httpx.TransportError as error:
            raise TransientSourceError(f"hubspot unreachable: {type(error).__name__}") from None
        limits = {k: v for k, v in response.headers.items() if k.startswith(RATE_HEADER_PREFIX)}
        self.rate_limit = limits or self.rate_limit
        return response


def _decode(response: httpx.Response) -> Any:
    """The JSON body, or the typed error for HubSpot's answer."""
    status = response.status_code
    if status < 300:
        return response.json()
    error = _error_body(response)
    message = str(error.get("message") or body_excerpt(response))
    if status == 429:
        policy = str(error.get("policyName") or "")
        if policy == DAILY_POLICY:
            raise QuotaExhausted(
                f"RATE_LIMIT {policy}: {message}", retry_after=retry_after(response)
            )
        wait = retry_after(response) or _interval_seconds(response)
        raise TransientSourceError(f"429 RATE_LIMIT {policy}: {message}", retry_after=wait)
    if status in TRANSIENT_STATUS:
        raise TransientSourceError(f"{status}: {message}", retry_after=retry_after(response))
    if status == 401:
        raise LoginFailed(
            f"hubspot refused the access token ({message})",
            [env_name("hubspot", "access_token"), env_name("hubspot", "base_url")],
        )
    raise PermanentSourceError(str(error.get("category") or f"HTTP_{status}"), message)


def _error_body(response: httpx.Response) -> Record:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _interval_seconds(response: httpx.Response) -> float | None:
    """The rolling window's length (``X-HubSpot-RateLimit-Interval-Milliseconds``)."""
    value = response.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds", "")
    return int(value) / 1000 if value.isdigit() else None


def _next_after(page: Record) -> str | None:
    after = (page.get("paging") or {}).get("next", {}).get("after")
    return None if after in (None, "") else str(after)


def _with(params: dict[str, str], **extra: str | None) -> dict[str, str]:
    return {**params, **{k: v for k, v in extra.items() if v is not None}}


def _primary_first(target: Record) -> int:
    labels = target.get("associationTypes") or []
    return 0 if any(t.get("label") == "Primary" for t in labels) else 1
