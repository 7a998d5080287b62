"""Every error a client sees carries ``extensions.code``; internal details never leave.

- ``ClientError`` subclasses (bad input, not found) pass through with their own code.
- Parse and validation failures get ``GRAPHQL_PARSE_FAILED`` / ``GRAPHQL_VALIDATION_FAILED``;
  queries over the depth, token or alias limits get ``QUERY_TOO_COMPLEX``.
- Anything else is a bug or an outage: logged with its stack, shown as ``INTERNAL_SERVER_ERROR``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from resolvers.errors import ClientError

log = logging.getLogger("clientgraph.graphql")

TOO_COMPLEX_MARKERS = ("exceeds maximum operation depth", "token limit", "maximum aliases")


def is_internal(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, ClientError | GraphQLError)


def classify(error: GraphQLError) -> GraphQLError:
    """The error as the client may see it, with a code."""
    if isinstance(error.original_error, ClientError):
        return error
    if is_internal(error):
        return GraphQLError(
            "Internal server error",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR"},
        )
    if error.extensions and "code" in error.extensions:
        return error
    error.extensions = {**(error.extensions or {}), "code": _code_of(error.message)}
    return error


def _code_of(message: str) -> str:
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if any(marker in message for marker in TOO_COMPLEX_MARKERS):
        return "QUERY_TOO_COMPLEX"
    return "GRAPHQL_VALIDATION_FAILED"


class ErrorCodes(SchemaExtension):
    """Classify the operation's errors once it has run."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [classify(e) for e in errors]  # type: ignore[union-attr]


def log_internal_errors(errors: list[GraphQLError]) -> None:
    """Log what the client will only see as INTERNAL_SERVER_ERROR (client errors: no log)."""
    for error in errors:
        if is_internal(error):
            log.error("resolver failed at %s", error.path, exc_info=error.original_error)
