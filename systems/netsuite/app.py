"""The simulator's HTTP API: SuiteTalk REST's token, record and SuiteQL endpoints.

Tokens are granted only to M2M client assertions signed by an uploaded certificate's key
(``systems.netsuite.m2m``); ``Simulator.user_token`` stands for someone signed in to
NetSuite's UI, for tests that edit records as a user would.

Paths, paging (``limit``/``offset``/``hasMore``), headers (``Prefer: transient``,
``Location``) and the error envelope follow NetSuite's documentation. Faults are switchable
(``Faults``): queued errors, slow answers, records deleted at the source; bearer tokens can
be expired (``expire_tokens``) so clients exercise their re-authentication.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from systems.netsuite.faults import Faults
from systems.netsuite.m2m import Assertions
from systems.netsuite.records import RECORD_TYPES
from systems.netsuite.store import Record, Store, UnknownField
from systems.netsuite.suiteql import InvalidQuery, Query, parse
from systems.netsuite.wire import NetSuiteJSON, error, page, record_body, suiteql_row

REST = "/services/rest"
RECORDS = f"{REST}/record/v1"
TOKEN_TTL = timedelta(hours=1)
MAX_LIMIT = 1000
DAY_FILTER = re.compile(r'^lastModifiedDate\s+ON_OR_AFTER\s+"(\d{1,2})/(\d{1,2})/(\d{4})"$')


def create_simulator(
    store: Store,
    *,
    certificates: Mapping[str, str],
    client_id: str = "clientgraph",
    audiences: Iterable[str] = (),
    page_size: int = 1000,
    faults: Faults | None = None,
) -> Starlette:
    """A NetSuite REST simulator over ``store``; M2M OAuth for the integration ``client_id``
    with the uploaded ``certificates`` (Certificate ID → certificate or public key PEM).

    ``audiences`` are token endpoint URLs accepted as ``aud`` besides the request's own (the
    URL a client uses through a proxy). ``page_size`` caps every page (a request may ask for
    fewer, up to NetSuite's 1,000): a small one makes a client that asks for 1,000 rows page
    through a small firm.
    """
    assertions = Assertions(dict(certificates), frozenset({client_id}), frozenset(audiences))
    sim = Simulator(store, assertions, page_size, faults or Faults())
    routes = [
        Route(f"{REST}/auth/oauth2/v1/token", sim.token, methods=["POST"]),
        Route(f"{REST}/query/v1/suiteql", sim.suiteql, methods=["POST"]),
        Route(f"{RECORDS}/{{kind}}", sim.collection, methods=["GET", "POST"]),
        Route(f"{RECORDS}/{{kind}}/{{key}}", sim.record, methods=["GET", "PATCH", "PUT", "DELETE"]),
    ]
    app = Starlette(routes=routes)
    app.state.simulator = sim
    return app


@dataclass
class Simulator:
    store: Store
    assertions: Assertions
    page_size: int
    faults: Faults
    tokens: dict[str, datetime] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def expire_tokens(self) -> None:
        """Every bearer token issued so far stops working (the next call gets 401)."""
        self.tokens.clear()

    async def token(self, request: Request) -> Response:
        form = parse_qs((await request.body()).decode(errors="replace"))
        refusal = self.assertions.check(form, str(request.url.replace(query="")))
        if refusal is not None:  # NetSuite says no more than this; the audit trail says why
            return NetSuiteJSON({"error": refusal.error}, refusal.status)
        ttl = int(TOKEN_TTL.total_seconds())
        body = {"access_token": self.user_token(), "token_type": "Bearer", "expires_in": ttl}
        return NetSuiteJSON(body)

    def user_token(self) -> str:
        """A bearer token valid for an hour (what a granted login, or a UI session, holds)."""
        token = f"nssim.{next(self._ids):08d}"
        self.tokens[token] = datetime.now(UTC) + TOKEN_TTL
        return token

    async def suiteql(self, request: Request) -> Response:
        if (refusal := await self._gate(request)) is not None:
            return refusal
        if request.headers.get("prefer", "").lower() != "transient":
            return error(400, "INVALID_HEADER", "SuiteQL requires the header Prefer: transient")
        try:
            query = parse(str((await request.json()).get("q", "")))
            limit, offset = _window(request, self.page_size)
        except (InvalidQuery, ValueError, AttributeError) as bad:
            return error(400, "INVALID_PARAMETER", str(bad))
        if query.table not in RECORD_TYPES:
            return error(400, "INVALID_PARAMETER", f"Record '{query.table}' was not found.")
        rows = self._select(query)
        if isinstance(rows, Response):
            return rows
        items = [suiteql_row(r, query.columns) for r in rows[offset : offset + limit]]
        return NetSuiteJSON(page(items, len(rows), offset, _links(request, offset, limit, rows)))

    def _select(self, query: Query) -> list[Record] | Response:
        found = self.store.rows(query.table)
        known = {k.lower() for r in found[:1] for k in r}
        wanted = [*(query.columns or ()), *(query.equals or ())[:1]]
        unknown = [c for c in wanted if found and c not in known]
        if unknown:
            detail = f"Field '{unknown[0]}' for record '{query.table}' was not found."
            return error(400, "INVALID_PARAMETER", detail)
        if query.since is not None:
            found = [r for r in found if r["lastModifiedDate"] >= query.since]
        if query.equals is not None:
            found = [r for r in found if _equals(r, *query.equals)]
        if query.by_stamp:
            return sorted(found, key=lambda r: (r["lastModifiedDate"], int(r["id"])))
        return sorted(found, key=lambda r: int(r["id"]))

    async def collection(self, request: Request) -> Response:
        if (refusal := await self._gate(request)) is not None:
            return refusal
        kind = request.path_params["kind"]
        if kind not in RECORD_TYPES:
            return error(404, "INVALID_RCRD_TYPE", f"Record type '{kind}' does not exist.")
        if request.method == "POST":
            return self._write(request, kind, None, await _body(request))
        try:
            limit, offset = _window(request, self.page_size)
            since = _day(request.query_params.get("q"))
        except ValueError as bad:
            return error(400, "INVALID_PARAMETER", str(bad))
        rows = sorted(self.store.rows(kind), key=lambda r: int(r["id"]))
        if since is not None:
            rows = [r for r in rows if r["lastModifiedDate"].date() >= since]
        base = f"{request.base_url}{RECORDS.lstrip('/')}/{kind}"
        items = [
            {"links": [{"rel": "self", "href": f"{base}/{r['id']}"}], "id": r["id"]}
            for r in rows[offset : offset + limit]
        ]
        return NetSuiteJSON(page(items, len(rows), offset, _links(request, offset, limit, rows)))

    async def record(self, request: Request) -> Response:
        if (refusal := await self._gate(request)) is not None:
            return refusal
        kind, key = request.path_params["kind"], request.path_params["key"]
        found = self._find(kind, key)
        if request.method == "PUT" and key.startswith("eid:"):
            fields = {**await _body(request), "externalId": key.removeprefix("eid:")}
            return self._write(request, kind, found, fields)
        if found is None:
            return error(404, "NONEXISTENT_ID", f"Record {kind} with id {key} was not found.")
        if request.method == "GET":
            base = f"{request.base_url}{RECORDS.lstrip('/')}"
            return NetSuiteJSON(record_body(kind, found, base))
        if request.method == "DELETE":
            self.store.delete(kind, found["id"])
            return Response(status_code=204)
        return self._write(request, kind, found, await _body(request))

    def _find(self, kind: str, key: str) -> Record | None:
        if key.startswith("eid:"):
            return self.store.find_external(kind, key.removeprefix("eid:"))
        return self.store.get(kind, key)

    def _write(
        self, request: Request, kind: str, found: Record | None, fields: dict[str, Any]
    ) -> Response:
        """Create (204 with ``Location``) or update (204) a record."""
        fields = {k: v for k, v in fields.items() if k not in ("id", "links", "lastModifiedDate")}
        if self.faults.refusal is not None:
            status, code, detail = self.faults.refusal
            return error(status, code, detail)
        try:
            if found is not None:
                self.store.update(kind, found["id"], fields)
                return Response(status_code=204)
            created = self.store.create(kind, fields)
        except UnknownField as bad:
            return error(400, "USER_ERROR", str(bad))
        location = f"{request.base_url}{RECORDS.lstrip('/')}/{kind}/{created['id']}"
        return Response(status_code=204, headers={"Location": location})

    async def _gate(self, request: Request) -> Response | None:
        """Faults first (delay, deletions, queued errors), then the bearer token."""
        if self.faults.delay:
            await asyncio.sleep(self.faults.delay)
        while self.faults.deletions:
            kind, record_id = self.faults.deletions.popleft()
            if self.store.get(kind, record_id) is not None:
                self.store.delete(kind, record_id)
        if (fault := self.faults.take()) is not None:
            status, code, retry_after = fault
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
            return error(status, code, f"Simulated {code}.", headers)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if self.tokens.get(token, datetime.min.replace(tzinfo=UTC)) <= datetime.now(UTC):
            detail = "Invalid login attempt. For more details, see the Login Audit Trail."
            return error(401, "INVALID_LOGIN", detail)
        return None


async def _body(request: Request) -> dict[str, Any]:
    """A JSON body with exact numbers (``Decimal``), as a write needs them."""
    body = json.loads(await request.body() or b"{}", parse_float=Decimal)
    return body if isinstance(body, dict) else {}


def _window(request: Request, page_size: int) -> tuple[int, int]:
    """``limit`` (1..1,000, then capped at the page size) and ``offset`` of a request."""
    limit = int(request.query_params.get("limit", MAX_LIMIT))
    offset = int(request.query_params.get("offset", 0))
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise ValueError(f"Invalid limit or offset: limit must be 1..{MAX_LIMIT}.")
    return min(limit, page_size), offset


def _day(q: str | None) -> date | None:
    """``lastModifiedDate ON_OR_AFTER "6/30/2026"``: whole days (the account's zone: UTC)."""
    if q is None:
        return None
    match = DAY_FILTER.match(q.strip())
    if match is None:
        raise ValueError(f"Invalid query parameter q: {q!r}")
    month, day, year = (int(g) for g in match.groups())
    return date(year, month, day)


def _links(request: Request, offset: int, limit: int, rows: list[Any]) -> list[dict[str, str]]:
    links = [{"rel": "self", "href": str(request.url)}]
    if offset + limit < len(rows):
        after = request.url.include_query_params(offset=offset + limit, limit=limit)
        links.append({"rel": "next", "href": str(after)})
    return links


__all__ = ["Faults", "Simulator", "create_simulator"]


def _equals(record: Record, column: str, text: str) -> bool:
    """SuiteQL's ``column = 'text'``: a reference compares by its id, empty never matches."""
    value = next((v for k, v in record.items() if k.lower() == column), None)
    if isinstance(value, dict):
        value = value.get("id")
    return value is not None and str(value) == text
