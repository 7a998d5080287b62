"""graphql-transport-ws with the rules of HTTP: the same codes, masking and deadline.

Strawberry runs every operation of a socket as a stream and sends what it yields as it is. Here
each error is classified first (codes, and ``INTERNAL_SERVER_ERROR`` in place of an internal
error's text), ``extensions.masked`` goes with each result, a refusal raised before execution
(parse, limits, introspection) becomes the protocol's ``error`` message for that operation (the
socket stays open, nothing is logged), and a query or mutation — not a subscription — is
stopped at the request deadline like over HTTP.
"""

from __future__ import annotations

import asyncio
from typing import Any

from graphql import GraphQLError, get_operation_ast
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from gateway.documents import DocumentRefused
from gateway.ratelimit import RateLimitedTransportWS
from gateway.sse import deadline_of
from gateway.streams import StreamSlots
from resolvers.errors import RequestTimeout
from schema.access import MASKED
from schema.caches import cached_parse
from schema.errors import classify, log_internal_errors
from schema.tracing import count_result, operation_span


class SocketHandler(RateLimitedTransportWS):
    """Rate-limited per operation (``RateLimitedTransportWS``), and held to HTTP's rules."""

    async def handle_subscribe(self, message: Any) -> None:
        """Trusted documents and persisted queries as over HTTP (``gateway.documents``)."""
        payload = message.get("payload") or {}
        if self.connection_acknowledged and isinstance(payload, dict):
            documents = self.context.request.app.state.documents
            try:
                query = await documents.query_of(
                    payload.get("query"),
                    payload.get("documentId"),
                    payload.get("extensions"),
                    self.context.principal.role.value,
                )
            except DocumentRefused as refused:
                error = GraphQLError(refused.message, extensions={"code": refused.code})
                await self.send_message(
                    {"id": message["id"], "type": "error", "payload": [error.formatted]}
                )
                return
            message = {**message, "payload": {**payload, "query": query}}
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Any) -> None:
        """Each operation is a span of its own under the socket's (``subscription Name``); a
        subscription holds one of its caller's slots while it runs (``gateway.streams``)."""
        kind, name = self._operation(operation)
        with operation_span(kind, name, getattr(self.context, "principal", None)):
            if kind != "subscription":
                await super().run_operation(operation)
                return
            slots: StreamSlots = self.context.request.app.state.stream_slots
            caller = slots.caller(self.context.request, self.context.principal)
            if not slots.take(caller):  # this operation only: the socket stays open
                await operation.send_initial_errors([slots.error()])
                return
            try:
                await super().run_operation(operation)
            finally:
                slots.release(caller)

    def _operation(self, operation: Any) -> tuple[str, str | None]:
        """The operation's type and name, read from its (cached) document."""
        try:
            document = cached_parse(operation.query, getattr(self.view, "max_tokens", 4000))
        except GraphQLError:
            return "invalid", operation.operation_name
        found = get_operation_ast(document, operation.operation_name)
        if found is None:
            return "invalid", operation.operation_name
        return found.operation.value, found.name.value if found.name else None

    async def _send_result_stream(self, operation: Any, result_source: Any) -> None:
        deadline = self._deadline(operation.query)
        first = True
        try:
            async with asyncio.timeout(deadline):
                async for result in result_source:
                    if first and isinstance(result, PreExecutionError):
                        result.errors = _classified(result.errors)
                        await self._handle_pre_execution_error(operation, result)
                        return
                    if not isinstance(result, ExecutionResult):
                        await self._reject_incremental_delivery(operation)
                        return
                    if result.errors:
                        result.errors = _classified(result.errors)
                    if masked := MASKED.get():
                        result.extensions = {**(result.extensions or {}), "masked": sorted(masked)}
                    await operation.send_next(result)
                    count_result()
                    first = False
        except GraphQLError as refused:  # a check before execution refused the operation
            await operation.send_initial_errors(_classified([refused]))
        except TimeoutError:
            seconds = f"{deadline:g}"
            error = RequestTimeout(f"the operation ran longer than {seconds} s and was stopped")
            await operation.send_initial_errors([error])

    def _deadline(self, query: str) -> float | None:
        """The view's request deadline, or none for a subscription (it lives as long as it is
        followed)."""
        timeout: float = getattr(self.view, "request_timeout", 15.0)
        return deadline_of(query, timeout, getattr(self.view, "max_tokens", 4000))


def _classified(errors: list[GraphQLError] | None) -> list[GraphQLError]:
    found = list(errors or [])
    log_internal_errors(found)
    return [classify(e) for e in found]
