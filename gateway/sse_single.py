"""graphql-sse's single connection mode: one event stream per reservation, the operations sent
apart and their results multiplexed on it (https://github.com/enisdenjo/graphql-sse,
PROTOCOL.md), on the same path as the distinct mode (``/graphql``):

- ``PUT`` → ``201`` and a token (``text/plain``): a reservation of the caller's;
- ``GET`` (or a ``POST`` without a document) with the token — header
  ``X-GraphQL-Event-Stream-Token`` or the ``token`` parameter — opens its event stream (one at
  a time: a second is ``409``);
- ``POST`` with the token and a document whose ``extensions.operationId`` names it → ``202``;
  its results come on the stream as ``next`` events ``{"id", "payload"}`` (the payload is what
  the distinct mode sends), then ``complete`` ``{"id"}``. A document refused before it runs is
  a 4xx JSON answer to that POST, as in the distinct mode;
- ``DELETE ?operationId=…`` with the token stops that operation (``complete`` follows).

Each of these is an HTTP request like any other, authenticated and rate-limited before it gets
here (``gateway.graphql``). A token is its caller's: another caller's token is ``404`` exactly
as an unknown one. A subscription holds one of its caller's slots (``gateway.streams``).

Reservations live in this process (``app.state.reservations``): behind a load balancer every
request of a reservation must reach the same gateway process (sticky sessions), or use the
distinct mode. A reservation whose stream has not opened within ``reservation_seconds`` is
dropped; a caller holds at most ``max_per_caller`` reservations; when the stream closes, its
operations stop and the token is spent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from clientgraph.access.principal import Principal
from gateway import sse
from gateway.http_input import error_response

log = logging.getLogger("clientgraph.graphql")
TOKEN_HEADER = "x-graphql-event-stream-token"
MAX_OPERATION_ID = 128
HEARTBEAT_SECONDS = 15.0
BACKLOG = 64  # events held for a stream not yet open (or slow) before operations wait
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

Run = Callable[[Request, dict[str, Any], str], Awaitable["Started | Response"]]
"""Start one operation of a POST body for a reservation: its results, or a refusal."""


@dataclass
class Started:
    """An operation that runs: its first result and the rest (``sse.Opened``)."""

    first: Any
    opened: sse.Opened
    process: Callable[[Any], Awaitable[Any]]


@dataclass
class Reservation:
    owner: str
    expires: float
    events: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(BACKLOG))
    operations: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    connected: bool = False
    spent: bool = False  # its stream closed (or it expired): nothing more runs on it

    async def stop(self, operation_id: str) -> None:
        task = self.operations.pop(operation_id, None)
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with contextlib.suppress(asyncio.QueueFull):
            self.events.put_nowait(_event("complete", {"id": operation_id}))

    async def close(self) -> None:
        self.spent = True
        for operation_id in list(self.operations):
            task = self.operations.pop(operation_id)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class Reservations:
    """The reservations of this process, by token."""

    def __init__(self, seconds: float, per_caller: int) -> None:
        self.seconds = seconds
        self.per_caller = per_caller
        self._all: dict[str, Reservation] = {}

    def reserve(self, owner: str) -> str | None:
        """A new token for ``owner``, or None when it holds as many as it may."""
        self._prune()
        if sum(r.owner == owner for r in self._all.values()) >= self.per_caller:
            return None
        token = secrets.token_urlsafe(24)
        self._all[token] = Reservation(owner, time.monotonic() + self.seconds)
        return token

    def find(self, token: str | None, owner: str) -> Reservation | None:
        """The caller's own reservation of ``token`` (another's reads as none)."""
        self._prune()
        found = self._all.get(token or "")
        return found if found is not None and found.owner == owner else None

    async def spend(self, token: str) -> None:
        reservation = self._all.pop(token, None)
        if reservation is not None:
            await reservation.close()

    async def aclose(self) -> None:
        for token in list(self._all):
            await self.spend(token)

    def _prune(self) -> None:
        now = time.monotonic()
        for token in [t for t, r in self._all.items() if not r.connected and r.expires < now]:
            reservation = self._all.pop(token)
            reservation.spent = True
            for task in reservation.operations.values():
                task.cancel()  # sent before a stream that never came: they end (and free
                # their slots) as their tasks unwind


def token_of(request: Request) -> str | None:
    return request.headers.get(TOKEN_HEADER) or request.query_params.get("token")


def addresses(request: Request) -> bool:
    """Whether ``request`` is one of this mode's (a reservation, its stream, its operations)."""
    return request.method in ("PUT", "DELETE") or token_of(request) is not None


async def handle(request: Request, principal: Principal, run: Run) -> Response:
    """Answer one request of the single connection mode."""
    reservations: Reservations = request.app.state.reservations
    owner = request.app.state.stream_slots.caller(request, principal)  # anonymous: by address
    if request.method == "PUT":
        token = reservations.reserve(owner)
        if token is None:
            message = f"at most {reservations.per_caller} reservations at once per caller"
            return error_response(429, message, "TOO_MANY_SUBSCRIPTIONS")
        return PlainTextResponse(token, status_code=201)
    token = token_of(request)
    reservation = reservations.find(token, owner)
    if token is None or reservation is None:
        return error_response(404, "no such event stream reservation", "NOT_FOUND")
    if request.method == "DELETE":
        return await _stop(request, reservation)
    body = await _document(request)
    if body is None:
        return _stream(reservations, token, reservation)
    return await _operation(request, reservation, body, run)


async def _document(request: Request) -> dict[str, Any] | None:
    """The POST body's operation, or None (a GET, or a POST that only opens the stream)."""
    if request.method != "POST":
        return None
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _stream(reservations: Reservations, token: str, reservation: Reservation) -> Response:
    if reservation.connected:
        return error_response(409, "this reservation's stream is open already", "CONFLICT")
    reservation.connected = True

    async def events() -> AsyncGenerator[str, None]:
        try:
            yield ": connected\n\n"  # the headers go now: the client knows it is open
            while True:
                try:
                    yield await asyncio.wait_for(reservation.events.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ": ping\n\n"
        finally:  # the client left: its operations stop, the token is spent
            await reservations.spend(token)

    return _Stream(events(), reservations, token)


class _Stream(StreamingResponse):
    """The reservation's event stream; when the response ends — even if the client left before
    its first byte, so the generator never ran — the token is spent and its operations stop."""

    def __init__(self, events: AsyncGenerator[str, None], reservations: Reservations, token: str):
        super().__init__(events, media_type="text/event-stream", headers=STREAM_HEADERS)
        self._reservations, self._token = reservations, token

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._reservations.spend(self._token)


async def _operation(
    request: Request, reservation: Reservation, body: dict[str, Any], run: Run
) -> Response:
    extensions = body.get("extensions")
    operation_id = extensions.get("operationId") if isinstance(extensions, dict) else None
    if not isinstance(operation_id, str) or not 0 < len(operation_id) <= MAX_OPERATION_ID:
        message = f"extensions.operationId must be a string of 1 to {MAX_OPERATION_ID} characters"
        return error_response(400, message)
    if operation_id in reservation.operations:
        return error_response(409, f"operation {operation_id!r} runs already", "CONFLICT")
    started = await run(request, body, operation_id)
    if isinstance(started, Response):
        return started
    # while it started, the stream may have closed or the same id been sent again
    if reservation.spent or operation_id in reservation.operations:
        await started.opened.close()
        if reservation.spent:
            return error_response(404, "no such event stream reservation", "NOT_FOUND")
        return error_response(409, f"operation {operation_id!r} runs already", "CONFLICT")
    task = asyncio.create_task(_deliver(reservation, operation_id, started))
    reservation.operations[operation_id] = task
    return Response(status_code=202)


async def _deliver(reservation: Reservation, operation_id: str, started: Started) -> None:
    """The operation's results onto the stream, then its ``complete`` (also when delivering
    fails: the error is logged, the client sees the operation end and may send the id again)."""
    try:
        if started.first is not sse.END:
            await _next(reservation, operation_id, started, started.first)
            async for result in started.opened.rest():
                await _next(reservation, operation_id, started, result)
    except Exception:
        log.exception("single connection mode: operation %r failed", operation_id)
    finally:
        await started.opened.close()
    # waits for the client as a result does (and is cancelled with the reservation)
    await reservation.events.put(_event("complete", {"id": operation_id}))
    if reservation.operations.get(operation_id) is asyncio.current_task():
        reservation.operations.pop(operation_id, None)


async def _next(reservation: Reservation, operation_id: str, started: Started, result: Any) -> None:
    payload = await started.process(result)
    await reservation.events.put(_event("next", {"id": operation_id, "payload": payload}))


async def _stop(request: Request, reservation: Reservation) -> Response:
    operation_id = request.query_params.get("operationId")
    if not operation_id:
        return error_response(400, "DELETE needs the operationId parameter")
    await reservation.stop(operation_id)
    return Response(status_code=200)


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
