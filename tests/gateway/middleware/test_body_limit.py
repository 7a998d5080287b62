"""Bodies over ``graphql.max_body_bytes`` are answered 413 and never read whole.

On a real socket (uvicorn as ``clientgraph serve`` runs it), a client that declares 10 MB, that
streams chunks without end, or that sends past the limit and then waits, gets its 413 without
the server waiting for (or holding) the rest. Through the ASGI transport: the limit's edge.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.settings import GraphQLSettings
from tests.conftest import http_client
from tests.gateway.edge import edge_app, on_a_socket

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])
MB = 1_000_000
JSON = {"content-type": "application/json"}
ANSWER_SECONDS = 10  # a server that waited for the rest of the body would exceed this


async def exchange(host: str, port: int, head: str, body_parts: list[bytes]) -> tuple[int, dict]:
    """Send a request head and some body (never all of it), read the answer: (status, JSON)."""
    return await asyncio.to_thread(_exchange, host, port, head, body_parts)


def _exchange(host: str, port: int, head: str, body_parts: list[bytes]) -> tuple[int, dict]:
    # A blocking socket: the server closes with our surplus unread, so a reset may follow its
    # answer; the kernel still hands over what arrived before it (asyncio's streams do not).
    with socket.create_connection((host, port), timeout=ANSWER_SECONDS) as sock:
        try:
            sock.sendall(head.encode())
            for part in body_parts:
                sock.sendall(part)
        except OSError:
            pass  # the server has answered and closed: read what it said
        received = b""
        while not _complete(received):
            try:
                data = sock.recv(65_536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
    head_bytes, _, body = received.partition(b"\r\n\r\n")
    return int(head_bytes.split()[1]), json.loads(body)


def _complete(received: bytes) -> bool:
    head_bytes, separator, body = received.partition(b"\r\n\r\n")
    for line in head_bytes.split(b"\r\n"):
        if separator and line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


async def _parts(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def head(extra: str) -> str:
    return (
        "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{extra}\r\n"
    )


def too_large(status: int, body: dict, limit: int = MB) -> None:
    assert status == 413
    error = body["errors"][0]
    assert error["extensions"] == {"code": "BAD_REQUEST", "maxBodyBytes": limit}
    assert f"larger than {limit} bytes" in error["message"]


async def test_a_declared_10_mb_body_is_refused_before_any_of_it_is_sent(
    engine: AsyncEngine,
) -> None:
    async with edge_app(engine) as app, on_a_socket(app) as (host, port):
        status, body = await exchange(host, port, head(f"Content-Length: {10 * MB}\r\n"), [])
    too_large(status, body)


async def test_a_body_longer_than_the_limit_is_cut_off_at_the_limit(engine: AsyncEngine) -> None:
    """The client says 10 MB and sends 1.1 MB: the answer comes without the other 8.9 MB."""
    sent = [b" " * 100_000] * 11
    async with edge_app(engine) as app, on_a_socket(app) as (host, port):
        status, body = await exchange(host, port, head(f"Content-Length: {10 * MB}\r\n"), sent)
    too_large(status, body)


async def test_a_chunked_body_is_cut_off_at_the_limit(engine: AsyncEngine) -> None:
    chunk = b" " * 65_536
    sent = [f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"] * 17  # 1.1 MB, never ended
    async with edge_app(engine) as app, on_a_socket(app) as (host, port):
        status, body = await exchange(host, port, head("Transfer-Encoding: chunked\r\n"), sent)
    too_large(status, body)


async def test_a_body_within_the_limit_runs_and_one_byte_more_is_413(engine: AsyncEngine) -> None:
    limit = 4096
    query = json.dumps({"query": "{ __typename }"}).encode()
    fits = query[:-1] + b" " * (limit - len(query)) + b"}"
    assert len(fits) == limit
    async with (
        edge_app(engine, graphql=GraphQLSettings(max_body_bytes=limit)) as app,
        http_client(app) as client,
    ):
        ok = await client.post("/graphql", content=fits, headers=JSON)
        over = await client.post("/graphql", content=fits + b" ", headers=JSON)
        streamed = await client.post(  # no Content-Length: counted while read
            "/graphql",
            content=_parts(fits, b" "),
            headers=JSON,
        )
    assert ok.status_code == 200 and ok.json()["data"] == {"__typename": "Query"}
    too_large(over.status_code, over.json(), limit)
    too_large(streamed.status_code, streamed.json(), limit)
