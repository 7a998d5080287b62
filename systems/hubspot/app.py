"""The simulator's HTTP API: HubSpot's CRM v3 objects, search, v4 associations and pipelines.

Paths, bodies, paging (``after``), the search's 200-a-page and 10,000-result limits, the
error envelope (``{status: "error", message, correlationId, category}``) and the rate-limit
headers and 429s follow HubSpot's documentation. Faults are switchable (``Faults``).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from systems.hubspot.faults import Faults, RateLimits
from systems.hubspot.store import DERIVED, PIPELINE, STAMPS, Record, Store

OBJECTS = "/crm/v3/objects"
MAX_SEARCH_LIMIT = 200
MAX_LIST_LIMIT = 100
SEARCH_WINDOW = 10_000
READ_ONLY = frozenset({*DERIVED, "hs_object_id", "createdate", *STAMPS.values()})


def create_simulator(
    store: Store,
    *,
    access_token: str,
    faults: Faults | None = None,
    limits: RateLimits | None = None,
    search_window: int = SEARCH_WINDOW,
) -> Starlette:
    """A HubSpot simulator over ``store``; requests must carry ``Bearer <access_token>``.

    ``search_window`` (HubSpot: 10,000) is how far one search can page; a small one lets a
    test meet the limit with a small firm.
    """
    sim = Simulator(store, access_token, faults or Faults(), limits or RateLimits(), search_window)
    routes = [
        Route(f"{OBJECTS}/{{kind}}", sim.list_objects, methods=["GET"]),
        Route(f"{OBJECTS}/{{kind}}/search", sim.search, methods=["POST"]),
        Route(f"{OBJECTS}/{{kind}}/batch/read", sim.batch_read, methods=["POST"]),
        Route(f"{OBJECTS}/{{kind}}/{{rid}}", sim.record, methods=["GET", "PATCH", "DELETE"]),
        Route("/crm/v4/associations/{kind}/{to}/batch/read", sim.associations, methods=["POST"]),
        Route("/crm/v3/pipelines/deals", sim.pipelines, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.simulator = sim
    return app


@dataclass
class Simulator:
    store: Store
    access_token: str
    faults: Faults
    limits: RateLimits
    search_window: int
    writes: int = field(default=0)

    async def list_objects(self, request: Request) -> Response:
        kind = request.path_params["kind"]
        if (refused := self._gate(request, kind)) is not None:
            return refused
        try:
            limit = min(int(request.query_params.get("limit", "10")), MAX_LIST_LIMIT)
            after = int(request.query_params.get("after", "0"))
        except ValueError:
            return self._error(400, "VALIDATION_ERROR", "limit and after must be integers")
        archived = request.query_params.get("archived", "false") == "true"
        found = self.store.archived(kind) if archived else self.store.live(kind)
        found = sorted(found, key=lambda r: int(r["id"]))
        wanted = _properties(request)
        return self._page([_shown(r, wanted) for r in found], after, limit)

    async def search(self, request: Request) -> Response:
        kind = request.path_params["kind"]
        if (refused := self._gate(request, kind)) is not None:
            return refused
        try:
            body = await request.json()
            since, sort = _search_terms(body, STAMPS[kind])
            limit, after = int(body.get("limit", 10)), int(body.get("after") or 0)
        except (ValueError, TypeError, KeyError, AttributeError) as bad:
            return self._error(400, "VALIDATION_ERROR", f"Invalid search request: {bad}")
        if limit > MAX_SEARCH_LIMIT:
            return self._error(400, "VALIDATION_ERROR", f"limit must be <= {MAX_SEARCH_LIMIT}")
        if after + limit > self.search_window:
            message = f"Search results are limited to {self.search_window} per query."
            return self._error(400, "VALIDATION_ERROR", message)
        stamp = STAMPS[kind]
        found = [r for r in self.store.live(kind) if _ms(r["properties"][stamp]) >= since]
        if sort:
            found.sort(key=lambda r: (_ms(r["properties"][stamp]), int(r["id"])))
        wanted = tuple(body.get("properties") or ())
        response = self._page([_shown(r, wanted) for r in found], after, limit)
        return response

    async def batch_read(self, request: Request) -> Response:
        kind = request.path_params["kind"]
        if (refused := self._gate(request, kind)) is not None:
            return refused
        try:
            body = await request.json()
            ids = [str(i["id"]) for i in body["inputs"]]
            wanted = tuple(body.get("properties") or ())
        except (ValueError, TypeError, KeyError) as bad:
            return self._error(400, "VALIDATION_ERROR", f"Invalid input JSON: {bad}")
        if len(ids) > MAX_LIST_LIMIT:
            return self._error(400, "VALIDATION_ERROR", f"at most {MAX_LIST_LIMIT} inputs")
        found = [r for i in ids if (r := self.store.get(kind, i)) is not None]
        missing = [i for i in ids if self.store.get(kind, i) is None]
        now = datetime.now(UTC).isoformat()
        answer: Record = {"status": "COMPLETE", "results": [_shown(r, wanted) for r in found]}
        answer |= {"startedAt": now, "completedAt": now}
        if not missing:
            return self._ok(answer)
        error = {"status": "error", "category": "OBJECT_NOT_FOUND", "context": {"ids": missing}}
        error["message"] = "Could not get some objects, they may be deleted or not exist."
        answer |= {"numErrors": 1, "errors": [error]}
        return JSONResponse(answer, 207, headers=self.limits.headers())

    async def record(self, request: Request) -> Response:
        kind, rid = request.path_params["kind"], request.path_params["rid"]
        if (refused := self._gate(request, kind)) is not None:
            return refused
        record = self.store.get(kind, rid)
        if record is None:
            return self._error(404, "OBJECT_NOT_FOUND", "resource not found")
        now = datetime.now(UTC)
        if request.method == "GET":
            return self._ok(self._with_associations(kind, _shown(record, _properties(request))))
        if request.method == "DELETE":
            self.store.archive(kind, rid, now)
            return Response(status_code=204, headers=self.limits.headers())
        return await self._patch(request, kind, rid, record, now)

    async def _patch(
        self, request: Request, kind: str, rid: str, record: Record, now: datetime
    ) -> Response:
        if self.faults.refusal is not None:
            status, category, message = self.faults.refusal
            return self._error(status, category, message)
        try:
            changes = (await request.json())["properties"]
            assert isinstance(changes, dict)
        except (ValueError, KeyError, TypeError, AssertionError):
            return self._error(400, "VALIDATION_ERROR", "Invalid input JSON: no properties")
        if problem := _invalid(kind, record, changes):
            return self._error(400, "VALIDATION_ERROR", problem)
        self.writes += 1
        updated = self.store.update(kind, rid, {k: _text(v) for k, v in changes.items()}, now)
        return self._ok(_shown(updated, ()))

    async def associations(self, request: Request) -> Response:
        kind, to = request.path_params["kind"], request.path_params["to"]
        if (refused := self._gate(request, kind)) is not None:
            return refused
        if to != "companies" or kind not in self.store.company_of:
            return self._error(400, "VALIDATION_ERROR", f"Unsupported association {kind}→{to}")
        inputs = [str(i["id"]) for i in (await request.json()).get("inputs", [])]
        results = []
        for rid in inputs:
            company = self.store.company_of[kind].get(rid)
            if company is not None and self.store.get(kind, rid) is not None:
                primary = {"category": "HUBSPOT_DEFINED", "typeId": _primary(kind)}
                kinds = [{**primary, "label": "Primary"}]
                results.append({"from": {"id": rid}, "to": [_to(company, kinds)]})
        now = datetime.now(UTC).isoformat()
        body = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
        return self._ok(body)

    async def pipelines(self, request: Request) -> Response:
        if (refused := self._gate(request, "deals")) is not None:
            return refused
        stages = [
            {
                "id": sid,
                "label": label,
                "displayOrder": order,
                "metadata": {"isClosed": str(closed).lower(), "probability": probability},
                "archived": False,
            }
            for order, (sid, label, closed, probability) in enumerate(PIPELINE)
        ]
        pipeline = {"id": "default", "label": "Sales Pipeline", "displayOrder": 0}
        return self._ok({"results": [{**pipeline, "stages": stages, "archived": False}]})

    def _with_associations(self, kind: str, shown: Record) -> Record:
        company = self.store.company_of.get(kind, {}).get(shown["id"])
        if company is None:
            return shown
        link = {"id": company, "type": f"{kind[:-1]}_to_company"}
        return {**shown, "associations": {"companies": {"results": [link]}}}

    def _page(self, found: list[Record], after: int, limit: int) -> Response:
        body: Record = {"total": len(found), "results": found[after : after + limit]}
        if after + limit < len(found):
            body["paging"] = {"next": {"after": str(after + limit)}}
        return self._ok(body)

    def _gate(self, request: Request, kind: str) -> Response | None:
        """Faults, then the token, then the rate limits (HubSpot's order of refusals)."""
        if (fault := self.faults.take()) is not None:
            status, policy, retry_after = fault
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            if status == 429:
                return self._rate_limited(policy or "TEN_SECONDLY_ROLLING", headers)
            return self._error(status, "INTERNAL_ERROR", "Simulated server error", headers)
        if request.headers.get("authorization", "") != f"Bearer {self.access_token}":
            message = "Authentication credentials not found."
            return self._error(401, "INVALID_AUTHENTICATION", message)
        if kind not in STAMPS:
            return self._error(400, "VALIDATION_ERROR", f"Unable to infer object type from: {kind}")
        if (broken := self.limits.take()) is not None:
            return self._rate_limited(broken, {})
        return None

    def _rate_limited(self, policy: str, headers: dict[str, str]) -> Response:
        body = {
            "status": "error",
            "message": f"You have reached your {policy.lower()} limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": policy,
            "groupName": "api-calls",
        }
        return JSONResponse(body, 429, headers={**self.limits.headers(), **headers})

    def _ok(self, body: Any) -> Response:
        return JSONResponse(body, headers=self.limits.headers())

    def _error(
        self, status: int, category: str, message: str, headers: dict[str, str] | None = None
    ) -> Response:
        body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4())}
        body["category"] = category
        return JSONResponse(body, status, headers={**self.limits.headers(), **(headers or {})})


def _search_terms(body: Record, stamp: str) -> tuple[int, bool]:
    """The ``<stamp> GTE <ms>`` filter (0 without one) and whether results sort by it."""
    since = 0
    for group in body.get("filterGroups") or []:
        for f in group["filters"]:
            if f["propertyName"] != stamp or f["operator"] != "GTE":
                raise ValueError(f"only {stamp} GTE is simulated")
            since = int(f["value"])
    sorts = body.get("sorts") or []
    sort = any(s.get("propertyName") == stamp for s in sorts if isinstance(s, dict))
    return since, sort


def _invalid(kind: str, record: Record, changes: Record) -> str | None:
    for name in changes:
        if name in READ_ONLY:
            return f'Property "{name}" is a read only property; its value cannot be set.'
        if name not in record["properties"]:
            return f'Property values were not valid: Property "{name}" does not exist'
    stage = changes.get("dealstage")
    if kind == "deals" and stage is not None and stage not in {s[0] for s in PIPELINE}:
        return f"{stage} was not one of the allowed options for dealstage"
    return None


def _properties(request: Request) -> tuple[str, ...]:
    return tuple(p for p in request.query_params.get("properties", "").split(",") if p)


def _shown(record: Record, wanted: tuple[str, ...]) -> Record:
    """A record as HubSpot answers: the asked properties (and the stamps), all strings."""
    keep = {*wanted, "hs_object_id", "createdate", *STAMPS.values()}
    properties = {k: v for k, v in record["properties"].items() if k in keep}
    return {**record, "properties": properties}


def _to(company: str, kinds: list[Record]) -> Record:
    return {"toObjectId": int(company), "associationTypes": kinds}


def _primary(kind: str) -> int:
    return 1 if kind == "contacts" else 5  # contact→company and deal→company, primary


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def _text(value: Any) -> str | None:
    """HubSpot stores every property as a string (numbers included)."""
    return None if value is None else value if isinstance(value, str) else json.dumps(value)
