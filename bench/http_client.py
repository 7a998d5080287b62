"""A lean HTTP/1.1 client for open-loop workloads (bench/mutations.py): POSTs of JSON on
kept-alive connections, one request at a time on each, as many connections as requests in
flight.

Why not httpx: measured on the bench machine, httpx spent ~1.9 ms of the client's CPU per
mutation (its request and response models, its connection pool's locks), all of it counted
in the latency it reports and taken from the two cores the gateway shares. This spends
~0.2 ms: the request's bytes written at once, the answer read by its ``Content-Length``
(the gateway always sends one). Anything else — chunked answers, a closed connection — is an
error of the request, counted by the workload like a timeout.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit


class HTTPFailure(Exception):
    """The answer could not be read (closed connection, no ``Content-Length``, timeout)."""


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._answer: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(HTTPFailure(f"connection closed: {exc}"))

    def send(self, request: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None
        self._answer = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self._answer

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0 or self._answer is None:
            return
        head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        length = None
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is None:
            self._answer.set_exception(HTTPFailure("an answer without Content-Length"))
            return
        if len(self._buffer) < end + 4 + length:
            return
        body = bytes(self._buffer[end + 4 : end + 4 + length])
        del self._buffer[: end + 4 + length]
        self._answer.set_result((int(head[0].split(" ", 2)[1]), body))


class Client:
    """POSTs to one URL's host, on a pool of kept-alive connections."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = parts.path or "/"
        self.timeout = timeout
        self._idle: list[_Connection] = []

    async def post_json(self, body: bytes) -> tuple[int, bytes]:
        """The status and body of the answer to a POST of ``body`` (JSON)."""
        connection = self._kept() or await self._connect()
        request = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        try:
            async with asyncio.timeout(self.timeout):
                answer = await connection.send(request)
        except TimeoutError:
            if connection.transport is not None:
                connection.transport.close()
            raise HTTPFailure(f"no answer within {self.timeout} s") from None
        if not connection.closed:
            self._idle.append(connection)
        return answer

    def _kept(self) -> _Connection | None:
        """The most recently used kept connection the server has not closed (uvicorn closes
        one idle for 5 s)."""
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                return connection
        return None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(_Connection, self.host, self.port)
        return protocol

    def close(self) -> None:
        for connection in self._idle:
            if connection.transport is not None:
                connection.transport.close()
        self._idle.clear()
