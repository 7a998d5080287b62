"""GraphQL over Server-Sent Events (graphql-sse, "distinct connections mode"), held to the
rules of the other two paths.

A request whose ``Accept`` names ``text/event-stream`` is answered as a stream of ``next``
events and one ``complete``: a subscription's results as they come, a query's or mutation's
one result. It is an HTTP request like any other, so it is authenticated, rate-limited and
scoped before it is parsed (``gateway.graphql``); what this module adds is what strawberry's
own SSE transport leaves out:

- trusted documents and persisted queries (``documentId``, ``extensions.persistedQuery``), as
  over HTTP and WebSocket (``gateway.documents``);
- a document refused before execution (parse, validation, limits, variables, an unknown
  operation) is not a stream but a 4xx JSON answer with the errors and their codes, as
  graphql-sse's reference server does;
- every error carries its code (``INTERNAL_SERVER_ERROR`` in place of an internal error's
  text) and ``extensions.masked`` names the guarded fields left null, per event;
- a query or mutation is stopped at the request deadline (a subscription lives as long as it
  is followed, like over WebSocket).

Single-connection mode (a reservation token, operations sent apart and multiplexed on one
stream) is ``gateway.sse_single``; it runs each operation through the same ``Opened``. A
subscription holds one of its caller's slots from its start to its end (``gateway.streams``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send
from strawberry.http import GraphQLRequestData
from strawberry.http.streaming import HTTPStreamTransport, merge_stream_with_heartbeat
from strawberry.types.execution import ExecutionResult, PreExecutionError

from gateway.media_types import JSON, REQUEST_ERROR_STATUS
from resolvers.errors import RequestTimeout
from schema.access import MASKED
from schema.errors import classify
from schema.limits import cached_parse

log = logging.getLogger("clientgraph.graphql")
INTERNAL = "INTERNAL_SERVER_ERROR"
SSE_PROTOCOL = "sse"  # strawberry's name of the transport (``GraphQLRequestData.protocol``)


def streams(request_data: Any) -> bool:
    """Whether this request is answered as an event stream."""
    return isinstance(request_data, GraphQLRequestData) and request_data.protocol == SSE_PROTOCOL


END = object()  # the producer's last item: the results are over
BACKLOG = 16  # results held for a slow client before the subscription waits for it


class Opened:
    """One operation's results, produced in a task of their own (so its deadline, context and
    masked paths stay with the generator) and read by the response as the client takes them."""

    def __init__(
        self,
        results: AsyncIterator[Any],
        deadline: float | None,
        release: Callable[[], None] | None = None,
    ) -> None:
        self.deadline = deadline
        self._queue: asyncio.Queue[Any] = asyncio.Queue(BACKLOG)
        self._task = asyncio.create_task(self._produce(results))
        self._release = release  # gives back the caller's slot (gateway.streams), once

    async def first(self) -> Any:
        """The first result (a refusal before execution is always first and alone)."""
        return await self._queue.get()

    async def rest(self) -> AsyncGenerator[Any, None]:
        try:
            while (result := await self._queue.get()) is not END:
                yield result
        finally:
            await self.close()

    async def close(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _produce(self, results: AsyncIterator[Any]) -> None:
        try:
            async with asyncio.timeout(self.deadline):
                async for result in results:
                    await self._queue.put(_held(result))
        except GraphQLError as error:  # a check before execution (parse, limits) refused it
            await self._queue.put(PreExecutionError(data=None, errors=[classify(error)]))
        except TimeoutError:
            stopped = RequestTimeout(
                f"the operation ran longer than {self.deadline:g} s and was stopped"
            )
            await self._queue.put(ExecutionResult(data=None, errors=[stopped]))
        except Exception:  # a bug, not the client's: logged, and shown only by its code
            log.exception("an event stream failed")
            internal = GraphQLError("Internal server error", extensions={"code": INTERNAL})
            await self._queue.put(ExecutionResult(data=None, errors=[internal]))
        await self._queue.put(END)  # (not when cancelled: then nobody is reading)


def refused(first: Any) -> bool:
    """Whether the operation was refused before it ran (parse, validation, limits...)."""
    return isinstance(first, PreExecutionError)


def refusal(response: Mapping[str, Any], errors: list[GraphQLError] | None) -> Response:
    """An operation refused before its stream began (parse, validation, limits, a role that
    may not subscribe): a 4xx JSON answer with its errors and their codes, no stream."""
    codes = [str((e.extensions or {}).get("code")) for e in errors or []]
    status = max((REQUEST_ERROR_STATUS.get(c, 400) for c in codes), default=400)
    body = {"errors": response.get("errors") or []}
    return Response(json.dumps(body), status_code=status, media_type=JSON)


def events(
    first: Any,
    opened: Opened,
    transport: HTTPStreamTransport,
    process: Callable[[Any], Awaitable[Any]],
    encode: Callable[[object], str],
) -> Callable[[], AsyncIterator[str]]:
    """The response's events: ``next`` per result (as the HTTP answer would be), then
    ``complete``, with the transport's heartbeat comments between."""

    async def stream() -> AsyncGenerator[str, None]:
        try:
            if first is not END:
                yield transport.encode_next(await process(first), encode)
                async for result in opened.rest():
                    yield transport.encode_next(await process(result), encode)
            yield transport.encode_complete()
        finally:  # the end, or the client left (the heartbeat's task is cancelled)
            await opened.close()

    return merge_stream_with_heartbeat(
        stream,
        lambda: transport.heartbeat_message(encode),
        interval=transport.heartbeat_interval,
        send_initial_heartbeat=transport.send_initial_heartbeat,
    )


class ClosingStream(StreamingResponse):
    """``response`` that closes ``opened`` when it ends, however it ends: also when the client
    left before the first byte, so the stream's generator never ran (its ``finally`` would not
    give the caller's slot back)."""

    def __init__(self, response: StreamingResponse, opened: Opened) -> None:
        super().__init__(response.body_iterator, status_code=response.status_code)
        self.raw_headers = response.raw_headers
        self._opened = opened

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._opened.close()


def _held(result: Any) -> Any:
    """``result`` with its errors classified and its masked paths in ``extensions``."""
    if isinstance(result, ExecutionResult):
        if result.errors:  # logged by the schema (``process_errors``)
            result.errors = [classify(e) for e in result.errors]
        if masked := MASKED.get():
            result.extensions = {**(result.extensions or {}), "masked": sorted(masked)}
    return result


def deadline_of(query: str, timeout: float, max_tokens: int) -> float | None:
    """The request deadline, or none for a subscription (followed as long as the client
    wants, like over WebSocket)."""
    try:
        document = cached_parse(query, max_tokens)
    except GraphQLError:
        return timeout
    subscribes = any(
        isinstance(d, OperationDefinitionNode) and d.operation is OperationType.SUBSCRIPTION
        for d in document.definitions
    )
    return None if subscribes else timeout
