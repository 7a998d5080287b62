"""The engine's errors never quote bound values (they reach log lines)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

SECRET = "variable-value-from-a-caller"


async def test_a_failed_statement_does_not_quote_its_parameters(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        with pytest.raises(DBAPIError) as failed:
            await conn.execute(text("SELECT * FROM no_such_table WHERE x = :x"), {"x": SECRET})

    assert SECRET not in str(failed.value)
    assert "hidden due to hide_parameters" in str(failed.value)
