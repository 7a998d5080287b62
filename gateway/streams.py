"""The subscriptions each caller follows at once, capped (``subscriptions.max_per_caller``).

A subscription holds a slot from its start to its end, whichever transport carries it
(graphql-transport-ws, graphql-sse in either mode); one past the cap is refused with
``TOO_MANY_SUBSCRIPTIONS`` — an ``error`` message for that operation on a WebSocket (the socket
stays open), HTTP 429 over SSE. Queries and mutations are not counted: they end at the request
deadline. The count is kept in this process (in ``app.state``): behind a load balancer each
gateway process allows the cap, so a caller may follow up to cap × processes in all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from graphql import GraphQLError
from starlette.requests import HTTPConnection
from starlette.responses import Response

from clientgraph.access.principal import Principal
from gateway.client_address import client_address
from gateway.http_input import error_response
from gateway.ratelimit import ANONYMOUS

TOO_MANY = "TOO_MANY_SUBSCRIPTIONS"


class StreamSlots:
    """Slots held per caller in this process."""

    def __init__(self, per_caller: int, trusted_proxies: Sequence[str] = ()) -> None:
        self.per_caller = per_caller
        self._trusted_proxies = tuple(trusted_proxies)
        self._held: Counter[str] = Counter()

    def caller(self, connection: HTTPConnection, principal: Principal) -> str:
        """Whose slots these are: the principal, or an anonymous caller's address."""
        if principal.id != ANONYMOUS:
            return principal.id
        return "ip:" + client_address(connection, self._trusted_proxies)

    def take(self, caller: str) -> bool:
        """One slot for ``caller``, if it holds fewer than the cap."""
        if self._held[caller] >= self.per_caller:
            return False
        self._held[caller] += 1
        return True

    def release(self, caller: str) -> None:
        self._held[caller] -= 1
        if self._held[caller] <= 0:
            del self._held[caller]

    def held(self, caller: str) -> int:
        return self._held[caller]

    @property
    def message(self) -> str:
        return f"at most {self.per_caller} subscriptions at once per caller; end one first"

    def error(self) -> GraphQLError:
        """The refusal as a GraphQL error (a WebSocket ``error`` message)."""
        return GraphQLError(self.message, extensions={"code": TOO_MANY, "max": self.per_caller})

    def refusal(self) -> Response:
        """The refusal over HTTP: 429 with the same error."""
        return error_response(429, self.message, TOO_MANY, max=self.per_caller)
