"""Count the SQL statements a server sends to PostgreSQL, from the wire: a small TCP proxy.

The peer is a Node process, so clientgraph's in-process statement counter (measure.py) cannot
see its queries, and pg_stat_statements is not loaded on these servers. The proxy sits between
the server and PostgreSQL and counts the frontend messages that run a statement: ``Q`` (simple
query) and ``E`` (Execute, extended protocol). A client's SSL request is refused by the proxy
itself so that the stream stays readable. A connection whose ``application_name`` is one of
``BACKGROUND`` (the gateway's counter lease: its heartbeats, resolvers/planner/lease.py) runs
no request's statement: its statements are counted apart, in ``background``.
"""

from __future__ import annotations

import asyncio
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from resolvers.planner.lease import APPLICATION_NAME

SSL_REQUEST = 80877103
GSS_REQUEST = 80877104
RUNS_A_STATEMENT = {ord("Q"), ord("E")}
BACKGROUND = frozenset({APPLICATION_NAME})


class StatementCounter:
    """A proxy on 127.0.0.1:``port`` to PostgreSQL at ``host:pg_port``, counting statements."""

    def __init__(self, host: str, pg_port: int) -> None:
        self.host, self.pg_port = host, pg_port
        self.statements = 0
        self.background = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(self.host, self.pg_port)
        try:
            application = await self._startup(reader, writer, upstream_writer)
            if application is not None:
                await asyncio.gather(
                    self._frontend(reader, upstream_writer, application in BACKGROUND),
                    _pipe(upstream_reader, writer),
                )
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            upstream_writer.close()

    async def _startup(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: asyncio.StreamWriter,
    ) -> str | None:
        """Forward the untyped startup message, answering SSL / GSS requests with 'N'; the
        connection's ``application_name`` ("" when it names none)."""
        while True:
            (length,) = struct.unpack("!I", await reader.readexactly(4))
            body = await reader.readexactly(length - 4)
            code = struct.unpack("!I", body[:4])[0] if len(body) >= 4 else 0
            if length == 8 and code in (SSL_REQUEST, GSS_REQUEST):
                writer.write(b"N")
                await writer.drain()
                continue
            upstream.write(struct.pack("!I", length) + body)
            await upstream.drain()
            words = body[4:].split(b"\0")  # the protocol version, then name, value, …
            settings = dict(zip(words[0::2], words[1::2], strict=False))
            return settings.get(b"application_name", b"").decode()

    async def _frontend(
        self, reader: asyncio.StreamReader, upstream: asyncio.StreamWriter, background: bool
    ) -> None:
        while True:
            head = await reader.readexactly(5)
            kind, length = head[0], struct.unpack("!I", head[1:])[0]
            body = await reader.readexactly(length - 4)
            if kind in RUNS_A_STATEMENT and background:
                self.background += 1
            elif kind in RUNS_A_STATEMENT:
                self.statements += 1
            upstream.write(head + body)
            await upstream.drain()
            if kind == ord("X"):
                return


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


@contextmanager
def counting_proxy(host: str, pg_port: int, port: int) -> Iterator[StatementCounter]:
    """Run the proxy in a background thread for the duration of the block."""
    counter = StatementCounter(host, pg_port)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop = asyncio.Event()

    async def serve() -> None:
        server = await asyncio.start_server(counter.handle, "127.0.0.1", port)
        started.set()
        async with server:
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    if not started.wait(10):
        raise SystemExit(f"the statement-counting proxy could not listen on {port}")
    try:
        yield counter
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
