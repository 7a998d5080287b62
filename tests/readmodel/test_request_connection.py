"""A request's reads hold a pooled connection only during a block: requests in flight that
each read, then wait for a connection of their own (a resolver reading on the engine, a
consistency-token wait), never hold the pool between them (PostgreSQL: a real pool of two)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.db import create_engine
from readmodel.request_connection import RequestConnection
from tests.sync_jobs.test_jobs import url_of


@pytest.fixture(params=["postgresql"])  # a pool that can run out
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_no_request_holds_a_connection_between_its_reads(engine: AsyncEngine) -> None:
    small = create_engine(url_of(engine), pool_size=1)  # one kept, one in overflow: two in all
    both_read = asyncio.Barrier(2)

    async def request() -> int:
        reads = RequestConnection(small)
        async with reads.connect() as conn:
            await conn.execute(text("SELECT 1"))
        await both_read.wait()  # both have read: with the connection kept, the pool is empty
        async with small.connect() as own:  # e.g. resolvers/audit.py reads on the engine
            got = (await own.execute(text("SELECT 2"))).scalar_one()
        async with reads.connect() as conn:  # and the request reads again
            return got + (await conn.execute(text("SELECT 3"))).scalar_one()

    try:
        answers = await asyncio.wait_for(asyncio.gather(request(), request()), timeout=20)
    finally:
        await small.dispose()
    assert answers == [5, 5]
