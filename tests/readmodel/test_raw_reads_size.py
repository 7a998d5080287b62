"""How many compiled statements a gateway runs at once by default (readmodel/raw_reads.py)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import make_url

from readmodel.raw_reads import in_flight

CORES = os.cpu_count() or 1


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+asyncpg://u@127.0.0.1:5432/db", min(20, 2 * CORES)),
        ("postgresql+asyncpg://u@localhost/db", min(20, 2 * CORES)),
        ("postgresql+asyncpg://u@/db?host=/var/run/postgresql", min(20, 2 * CORES)),
        ("postgresql+asyncpg://u@db.internal:5432/db", 20),  # its own cores: the pool's size
    ],
)
def test_twice_the_cores_when_the_database_shares_them(url: str, expected: int) -> None:
    assert in_flight(make_url(url), 20) == expected
    assert in_flight(make_url(url), 1) == 1  # never more than the pool's size
