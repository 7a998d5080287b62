"""The simulator's HTTP API: Salesforce REST's query, paging, write and error shapes.

Faults are switchable (``Faults``): a queue of error responses (429 with ``Retry-After``,
503, ``REQUEST_LIMIT_EXCEEDED``) and an expired session, so connectors exercise the same
code paths as against the real service.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from systems.salesforce import soql
from systems.salesforce.store import Record, Store, parse_sf_time, sf_time

API = "/services/data/v60.0"
DAILY_LIMIT = 15_000


@dataclass
class Faults:
    """Errors to serve before normal answers, in order: (status, errorCode, Retry-After)."""

    queue: deque[tuple[int, str, int | None]] = field(default_factory=deque)
    calls_before_failing: int = 0
    refusal: tuple[int, str, str] | None = None  # (status, errorCode, message) for writes

    def refuse_writes(
        self, code: str = "FIELD_CUSTOM_VALIDATION_EXCEPTION", message: str = "", status: int = 400
    ) -> None:
        """Refuse every write (until ``accept_writes``) as a validation rule would."""
        self.refusal = (status, code, message or f"simulated {code}")

    def accept_writes(self) -> None:
        self.refusal = None

    def fail_next(
        self,
        status: int,
        code: str,
        times: int = 1,
        retry_after: int | None = None,
        after: int = 0,
    ) -> None:
        """Answer ``times`` requests with this error, after ``after`` normal answers."""
        self.queue.extend([(status, code, retry_after)] * times)
        self.calls_before_failing = after


class SalesforceJSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=_number).encode()


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # the wire carries a JSON number, as Salesforce does
    raise TypeError(type(value).__name__)


def create_simulator(
    store: Store, *, client_secret: str, batch_size: int = 2000, faults: Faults | None = None
) -> Starlette:
    """A Salesforce REST simulator over ``store``; OAuth client-credentials with the secret."""
    state = _State(store, client_secret, batch_size, faults or Faults())
    routes = [
        Route("/services/oauth2/token", state.token, methods=["POST"]),
        Route(f"{API}/query", state.query),
        Route(f"{API}/queryAll", state.query_all),
        Route(f"{API}/query/{{locator}}", state.more),
        Route(
            f"{API}/sobjects/{{sobject}}/{{record_id}}",
            state.record,
            methods=["GET", "PATCH", "DELETE"],
        ),
    ]
    app = Starlette(routes=routes)
    app.state.simulator = state
    return app


@dataclass
class _State:
    store: Store
    client_secret: str
    batch_size: int
    faults: Faults
    tokens: set[str] = field(default_factory=set)
    cursors: dict[str, list[Record]] = field(default_factory=dict)
    used: int = 0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def expire_sessions(self) -> None:
        self.tokens.clear()

    async def token(self, request: Request) -> Response:
        form = parse_qs((await request.body()).decode())
        if form.get("client_secret") != [self.client_secret]:
            return SalesforceJSON(
                {"error": "invalid_client", "error_description": "invalid client credentials"}, 400
            )
        token = f"00Dsim!{next(self._ids):08d}"
        self.tokens.add(token)
        base = f"{request.url.scheme}://{request.url.netloc}"
        return SalesforceJSON(
            {"access_token": token, "instance_url": base, "token_type": "Bearer", "issued_at": "0"}
        )

    async def query(self, request: Request) -> Response:
        return await self._run(request, include_deleted=False)

    async def query_all(self, request: Request) -> Response:
        return await self._run(request, include_deleted=True)

    async def _run(self, request: Request, *, include_deleted: bool) -> Response:
        if (refusal := self._gate(request)) is not None:
            return refusal
        try:
            q = soql.parse(request.query_params.get("q", ""))
        except soql.MalformedQuery as error:
            return self._error(400, "MALFORMED_QUERY", str(error))
        rows = [
            r for r in self.store.rows(q.sobject, include_deleted=include_deleted) if _after(r, q)
        ]
        rows.sort(key=lambda r: (r["SystemModstamp"], r["Id"]))
        rows = rows[: q.limit] if q.limit is not None else rows
        picked = [_project(r, q) for r in rows]
        return self._page(q.sobject, picked, total=len(picked))

    async def more(self, request: Request) -> Response:
        if (refusal := self._gate(request)) is not None:
            return refusal
        locator = request.path_params["locator"]
        if locator not in self.cursors:
            return self._error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        rows = self.cursors.pop(locator)
        return self._page(rows[0]["attributes"]["type"], rows, total=None)

    def _page(self, sobject: str, rows: list[Record], total: int | None) -> Response:
        batch, rest = rows[: self.batch_size], rows[self.batch_size :]
        body: dict[str, Any] = {
            "totalSize": total if total is not None else len(rows),
            "done": not rest,
            "records": batch,
        }
        if rest:
            locator = f"01gsim{next(self._ids):010d}-{self.batch_size}"
            self.cursors[locator] = rest
            body["nextRecordsUrl"] = f"{API}/query/{locator}"
        return self._ok(body)

    async def record(self, request: Request) -> Response:
        if (refusal := self._gate(request)) is not None:
            return refusal
        sobject, record_id = request.path_params["sobject"], request.path_params["record_id"]
        record = self.store.records.get(sobject, {}).get(record_id)
        if record is None or record.get("IsDeleted"):
            return self._error(404, "NOT_FOUND", "The requested resource does not exist")
        now = datetime.now(UTC)
        if request.method == "GET":
            return self._ok({"attributes": {"type": sobject}, **record})
        if request.method == "DELETE":
            self.store.delete(sobject, record_id, now)
            return Response(status_code=204)
        if self.faults.refusal is not None:
            status, code, message = self.faults.refusal
            return self._error(status, code, message)
        changes = await request.json()
        unknown = sorted(set(changes) - set(record) - {"attributes"})
        if unknown:
            return self._error(
                400,
                "INVALID_FIELD",
                f"No such column '{unknown[0]}' on sobject of type {sobject}",
                fields=unknown,
            )
        if sobject == "Opportunity" and "StageName" in changes:
            changes = {**changes, **stage_flags(changes["StageName"])}
        self.store.touch(sobject, record_id, changes, now)
        return Response(status_code=204)

    def _gate(self, request: Request) -> Response | None:
        """Faults first, then the session check, then count the call against the quota."""
        if self.faults.queue and self.faults.calls_before_failing > 0:
            self.faults.calls_before_failing -= 1
        elif self.faults.queue:
            status, code, retry_after = self.faults.queue.popleft()
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            return self._error(status, code, f"simulated {code}", headers=headers)
        auth = request.headers.get("authorization", "")
        if auth.removeprefix("Bearer ") not in self.tokens:
            return self._error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        self.used += 1
        return None

    def _ok(self, body: Any) -> Response:
        return SalesforceJSON(body, headers=self._limits())

    def _error(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        body = [{"message": message, "errorCode": code, "fields": fields or []}]
        return SalesforceJSON(body, status, headers={**self._limits(), **(headers or {})})

    def _limits(self) -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={self.used}/{DAILY_LIMIT}"}


def stage_flags(stage_name: str) -> dict[str, bool]:
    """``IsWon``/``IsClosed`` follow the stage, as Salesforce derives them (read-only there)."""
    closed = stage_name.startswith("Closed")
    return {"IsClosed": closed, "IsWon": closed and stage_name == "Closed Won"}


def _after(record: Record, q: soql.Query) -> bool:
    if q.since is None:
        return True
    stamp = parse_sf_time(record["SystemModstamp"])
    return stamp >= q.since if q.inclusive else stamp > q.since


def _project(record: Record, q: soql.Query) -> Record:
    url = f"{API}/sobjects/{q.sobject}/{record['Id']}"
    return {"attributes": {"type": q.sobject, "url": url}, **{f: record.get(f) for f in q.fields}}


__all__ = ["Faults", "create_simulator", "sf_time"]
