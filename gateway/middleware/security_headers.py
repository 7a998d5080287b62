"""Headers every HTTP answer carries, unless the endpoint set its own (OWASP's REST and
GraphQL cheat sheets).

- ``X-Content-Type-Options: nosniff``: a browser never reads JSON as HTML or script;
- ``X-Frame-Options: DENY`` and CSP ``frame-ancestors 'none'``: no page may frame ours
  (clickjacking); old browsers read the first, new ones the second;
- ``Content-Security-Policy: default-src 'none'``: an answer is data, it may load nothing (the
  GraphiQL page sets a policy of its own, see ``gateway.graphql``);
- ``Referrer-Policy: no-referrer``: a link followed from our pages names no URL of ours;
- ``Cache-Control: no-store``: answers hold what one caller may see; no browser or proxy may
  keep them for the next.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_CSP = "default-src 'none'; frame-ancestors 'none'"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": API_CSP,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
