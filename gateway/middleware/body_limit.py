"""A ceiling on request bodies, enforced while they are read.

A body over ``max_bytes`` is answered 413 as soon as it is known to be over: at once when its
``Content-Length`` says so, else when the bytes read pass the limit (a chunked body, or a
client that keeps sending). At most ``max_bytes`` plus one network chunk is ever held; what is
left unread is never read. A body within the limit is handed on to the app unchanged.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http_input import error_response


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _declared_length(scope) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        body = await self._read(receive)
        if body is None:
            await self._too_large(scope, receive, send)
        elif body is not _GONE:
            await self.app(scope, replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, ``None`` once it passes the limit, ``_GONE`` if the client left."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return _GONE
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"the request body is larger than {self.max_bytes} bytes"
        response = error_response(
            413, message, headers={"Connection": "close"}, maxBodyBytes=self.max_bytes
        )
        await response(scope, receive, send)


_GONE = b"<client disconnected>"  # compared by identity


def _declared_length(scope: Scope) -> int:
    try:
        return int(Headers(scope=scope).get("content-length", "0"))
    except ValueError:
        return 0  # the server refuses a malformed length before we see it


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the app the body already read, then the client's messages."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
