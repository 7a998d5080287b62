"""The planner's SQL for printed values, run on each database and compared with Python's."""

from __future__ import annotations

import random

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.money import minor_to_decimal
from resolvers.planner.dialect import Dialect

EDGES = [0, 1, -1, 5, -5, 9, -9, 10, 99, -99, 100, -100, 101, -101, 12345, -12345, 10**12]
EDGES += [2**62, -(2**62), 2**63 - 1, -(2**63) + 1]


async def test_hundredths_print_as_decimal_quantized(engine: AsyncEngine) -> None:
    """``decimal2`` is ``Money.amount``'s text: the minor units over 100, quantized to 0.01 as
    ``Decimal`` prints it (``-5`` → ``-0.05``, null → ``0.00``), to the ends of BIGINT."""
    dialect = Dialect(engine.dialect.name, engine.dialect)
    rng = random.Random(14)
    values = EDGES + [rng.randrange(-(10**15), 10**15) for _ in range(300)]
    sql = text(f"SELECT {dialect.decimal2('CAST(:n AS BIGINT)')}")
    async with engine.connect() as conn:
        printed = [(await conn.execute(sql, {"n": n})).scalar() for n in values]
        null = (await conn.execute(text(f"SELECT {dialect.decimal2('NULL')}"))).scalar()
    assert printed == [str(minor_to_decimal(n)) for n in values]
    assert null == "0.00"
