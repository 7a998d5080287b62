"""Every error a client sees carries ``extensions.code``; internal details never leave.

- ``ClientError`` subclasses (bad input, not found) pass through with their own code.
- Parse failures and queries over the token, depth, alias or cost limits are raised as
  ``ParseFailed`` / ``QueryTooComplex`` by ``schema.limits`` (codes by type, not by message);
  variables whose values do not coerce to their declared types (graphql-core's "Variable
  '$x' has invalid value …" — "got" before 3.3 —, a required one missing or null included) are
  ``BAD_USER_INPUT``, as a bad argument is; other errors graphql-core reports before execution are
  ``GRAPHQL_VALIDATION_FAILED`` (the document does not fit the schema).
- Anything else is a bug or an outage: logged with its stack, shown as ``INTERNAL_SERVER_ERROR``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension

from resolvers.errors import ClientError

log = logging.getLogger("clientgraph.graphql")

VARIABLE_VALUE = re.compile(r"Variable '\$\w+' (has|got) invalid value( at |:| )")
"""graphql-core's words for a variable value that does not coerce (``coerce_variable_values``),
as against a document that does not validate ("Variable '$x' of type … used in position …",
"has invalid default value")."""


def is_internal(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, ClientError | GraphQLError)


def classify(error: GraphQLError) -> GraphQLError:
    """The error as the client may see it, with a code."""
    if isinstance(error, ClientError) or isinstance(error.original_error, ClientError):
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
    if isinstance(error, GraphQLSyntaxError):
        code = "GRAPHQL_PARSE_FAILED"
    elif error.path is None and VARIABLE_VALUE.match(error.message):
        code = "BAD_USER_INPUT"
    else:
        code = "GRAPHQL_VALIDATION_FAILED"
    error.extensions = {**(error.extensions or {}), "code": code}
    return error


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
