"""NetSuite's account-wide concurrency governance, as the simulator enforces it.

NetSuite allows an account a fixed number of web-services requests in flight at once, whoever
sends them; one over the limit is refused at once with 429 ``CONCURRENCY_LIMIT_EXCEEDED``.
``AccountConcurrency`` wraps the simulator's ASGI app and does the same, counting every
request to the REST API (token requests excepted) from its first byte in to its last byte
out. ``GET /_simulator/concurrency`` reports what it saw (not a NetSuite endpoint), so a test
that runs the simulator as a process can ask how many requests were refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from systems.netsuite.wire import error

REPORT_PATH = "/_simulator/concurrency"
UNGOVERNED = ("/services/rest/auth/",)  # the token endpoint is not a web-services call


@dataclass
class AccountConcurrency:
    """At most ``limit`` governed requests in flight; the rest get NetSuite's 429."""

    app: ASGIApp
    limit: int
    in_flight: int = 0
    peak: int = 0
    served: int = 0
    refused: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(UNGOVERNED):
            await self.app(scope, receive, send)
        elif path == REPORT_PATH:
            await self._report(scope, receive, send)
        elif self.in_flight >= self.limit:
            self.refused += 1
            detail = "Concurrent request limit exceeded. Request blocked."
            await error(429, "CONCURRENCY_LIMIT_EXCEEDED", detail)(scope, receive, send)
        else:
            await self._governed(scope, receive, send)

    async def _governed(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self.served += 1

    async def _report(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = {"limit": self.limit, "peak": self.peak, "served": self.served}
        body["refused"] = self.refused
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})
