"""The planner's SQL for printed values, run on each database and compared with Python's."""

from __future__ import annotations

import json
import random

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.money import minor_to_decimal
from resolvers.planner.dialect import Dialect, Json, Number, Quoted

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


TEXT = 'a "quoted" \\ back\nslash\t é ☃ \x01'


async def test_objects_and_lists_are_json_of_every_kind_of_value(engine: AsyncEngine) -> None:
    """An object's values by kind (dialect.py: on PostgreSQL, JSON text by concatenation):
    constants, text needing every escape, numbers, quoted text, booleans, nulls of each kind,
    nested objects and lists, in order — what Python reads back is what the values are."""
    d = Dialect(engine.dialect.name, engine.dialect)
    inner = d.obj([("k", d.literal("v")), ("n", Number("CAST(:n AS BIGINT)"))])
    pairs = [
        ("constant", d.literal('He said "hi" \\ ☃ :n')),
        ("text", "CAST(:t AS TEXT)"),
        ("noText", "CAST(NULL AS TEXT)"),
        ("number", Number("CAST(:n AS BIGINT)")),
        ("noNumber", Number("CAST(NULL AS BIGINT)")),
        ("ratio", d.ten_thousandths("CAST(:n AS BIGINT)")),
        ("amount", d.decimal2("CAST(:n AS BIGINT)")),
        ("noQuoted", Quoted("CAST(NULL AS TEXT)")),
        ("yes", d.boolean("1 = 1")),
        ("no", d.boolean("1 = 0")),
        ("unknown", d.boolean("NULL = 1")),
        ("masked", Json("NULL")),
        ("inner", inner),
    ]
    rows = f"SELECT {inner} AS j, 2 AS o UNION ALL SELECT {inner} AS j, 1 AS o ORDER BY o"
    listed = d.nested(f"(SELECT {d.agg('s.j', 's.o')} FROM ({rows}) s)")
    empty = d.nested(f"(SELECT {d.agg('s.j', 's.o')} FROM ({rows}) s WHERE s.o > 2)")
    statement = text(f"SELECT {d.json_text(d.obj([*pairs, ('list', listed), ('none', empty)]))}")
    async with engine.connect() as conn:
        made = (await conn.execute(statement, {"n": 12345, "t": TEXT})).scalar()
    assert json.loads(made) == {
        "constant": 'He said "hi" \\ ☃ :n',
        "text": TEXT,
        "noText": None,
        "number": 12345,
        "noNumber": None,
        "ratio": 1.2345,
        "amount": "123.45",
        "noQuoted": None,
        "yes": True,
        "no": False,
        "unknown": None,
        "masked": None,
        "inner": {"k": "v", "n": 12345},
        "list": [{"k": "v", "n": 12345}, {"k": "v", "n": 12345}],
        "none": [],
    }
    assert list(json.loads(made)) == [k for k, _ in pairs] + ["list", "none"]  # in order
