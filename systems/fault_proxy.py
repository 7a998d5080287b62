"""A fault layer in front of a simulator: a share of calls fail before or after the source acts.

    python -m systems.fault_proxy --upstream http://127.0.0.1:8102 --port 8110 --rate 0.3

Each request is, at random (seeded):

* *before* (``rate / 2``): answered 502 without reaching the source — nothing happened there;
* *after* (``rate / 2``): forwarded, the source acts on it, and its answer is replaced by a
  502 — the write landed but the caller never hears so (the case idempotency keys exist for);
* otherwise passed through unchanged.

``lose_first_answers`` makes the *after* fate deterministic, for tests that run the proxy in
process (``create_proxy(layer, transport=httpx.ASGITransport(simulator))``): the first answer
to each write (a PUT, PATCH, DELETE, or a POST that is not a login or a query) to each path
is lost after the source acted on it; a repeat to that path passes.

``/_faults`` (GET) reports the counts; ``/_faults?rate=0`` (POST) changes the rate at run time,
so a benchmark can end its fault window. The proxy is for the fault-storm benchmark
(``make faults``) and tests; it is not part of the product.
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

HOP_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
FAULT_BODY = b'{"error": "bad gateway (injected fault)"}'
READING_POSTS = ("/token", "/suiteql", "/search", "/batch/read")  # POSTs that log in or read


@dataclass
class FaultLayer:
    """The proxy's state: where to forward, how often to fail, what it did."""

    upstream: str
    rate: float
    random: random.Random = field(default_factory=random.Random)
    counts: Counter[str] = field(default_factory=Counter)
    lose_first_answers: bool = False
    answered: set[tuple[str, str]] = field(default_factory=set)  # writes whose answer was lost

    def draw(self, method: str = "GET", path: str = "") -> str:
        """``before``, ``after`` or ``pass`` for the next request."""
        if self.lose_first_answers and is_write(method, path):
            if (method, path) not in self.answered:
                self.answered.add((method, path))
                return "after"
            return "pass"
        roll = self.random.random()
        if roll < self.rate / 2:
            return "before"
        if roll < self.rate:
            return "after"
        return "pass"


def is_write(method: str, path: str) -> bool:
    """Whether a request changes the source (a login or a SuiteQL query does not)."""
    if method == "POST":
        return not path.endswith(READING_POSTS)
    return method in ("PUT", "PATCH", "DELETE")


def create_proxy(layer: FaultLayer, transport: httpx.AsyncBaseTransport | None = None) -> Starlette:
    """The proxy's app; ``transport`` reaches the upstream in process (tests)."""
    client = httpx.AsyncClient(base_url=layer.upstream, timeout=60.0, transport=transport)

    async def faults(request: Request) -> Response:
        if request.method == "POST" and "rate" in request.query_params:
            layer.rate = float(request.query_params["rate"])
        return JSONResponse({"rate": layer.rate, **layer.counts})

    async def forward(request: Request) -> Response:
        fate = layer.draw(request.method, request.url.path)
        layer.counts[fate] += 1
        if fate == "before":
            return Response(FAULT_BODY, 502, media_type="application/json")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        upstream = await client.request(
            request.method,
            request.url.path,
            params=request.query_params,
            headers=headers,
            content=await request.body(),
        )
        if fate == "after":
            return Response(FAULT_BODY, 502, media_type="application/json")
        kept = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS}
        kept.pop("content-encoding", None)
        return Response(upstream.content, upstream.status_code, headers=kept)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(
        routes=[
            Route("/_faults", faults, methods=["GET", "POST"]),
            Route("/{path:path}", forward, methods=methods),
        ],
        lifespan=lambda _app: _closing(client),
    )


@asynccontextmanager
async def _closing(client: httpx.AsyncClient) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m systems.fault_proxy", description=__doc__)
    parser.add_argument("--upstream", required=True, help="the simulator's base URL")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, default=0.3, help="share of calls that fail")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    layer = FaultLayer(args.upstream, args.rate, random.Random(args.seed))
    uvicorn.run(create_proxy(layer), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
