"""Errors a client caused, each with a stable ``extensions.code``.

Anything else that escapes a resolver is an internal error: logged with its stack on the
server, shown to the client only as ``INTERNAL_SERVER_ERROR`` (see ``schema.errors``).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError


class ClientError(GraphQLError):
    """An error the client can fix; its message is safe to show."""

    code = "BAD_REQUEST"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": self.code, **extensions})


class BadUserInput(ClientError):
    """An argument is malformed or out of range (``extensions.argument`` names it)."""

    code = "BAD_USER_INPUT"


class NotFound(ClientError):
    """A well-formed id that names no live record."""

    code = "NOT_FOUND"


class Forbidden(ClientError):
    """The caller's role may not use this operation (``extensions.operation`` names it)."""

    code = "FORBIDDEN"


class Unauthenticated(ClientError):
    """No credentials, or credentials that do not check out."""

    code = "UNAUTHENTICATED"


class QueryTooComplex(ClientError):
    """Over a limit checked before execution: tokens, depth, aliases or cost (the measured
    value and the limit are in ``extensions``)."""

    code = "QUERY_TOO_COMPLEX"


class ParseFailed(ClientError):
    """The document is not GraphQL (``locations`` says where, as graphql's own errors do)."""

    code = "GRAPHQL_PARSE_FAILED"

    def __init__(self, syntax_error: GraphQLError) -> None:
        GraphQLError.__init__(
            self,
            syntax_error.message,
            source=syntax_error.source,
            positions=syntax_error.positions,
            extensions={"code": self.code},
        )


class RequestTimeout(ClientError):
    """The operation ran past ``graphql.request_timeout_seconds`` and was stopped."""

    code = "REQUEST_TIMEOUT"
