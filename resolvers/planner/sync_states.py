"""``extensions.freshness`` from the plan's own statement: ``sync_state``'s rows as one JSON
column (``cg_sync``) of the statement that reads the answer — or, on a response-cache hit, of
the statement that reads the counters — so a compiled answer costs one statement, not two,
and its freshness is of the same snapshot as its data (gateway/consistency.py reads them)."""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from readmodel.reads.freshness import SourceState, source_states
from resolvers.planner.dialect import Dialect

TIMES = ("last_success_at", "last_attempt_at", "paused_until")
PLAIN = ("system", "object_type", "records_applied", "records_applied_total", "last_error")
ORDER = "system, object_type"


def column(d: Dialect) -> str:
    """The select-list item ``… AS cg_sync``: a JSON array of every row, in order."""
    return f"{expression(d)} AS cg_sync"


def expression(d: Dialect) -> str:
    """``sync_state``'s rows as one JSON text (a scalar subquery), to read in any statement."""
    pairs = [(name, f"cg_s.{name}") for name in PLAIN]
    pairs += [(name, d.utc_time(f"cg_s.{name}")) for name in TIMES]
    rows = f"(SELECT * FROM sync_state ORDER BY {ORDER}) cg_s"
    # as text (not decoded by the driver): the same text between two syncs is parsed once
    return d.json_text(f"(SELECT {d.agg(d.obj(pairs), ORDER)} FROM {rows})")


def keep(state: Any, text: str) -> None:
    """Keep ``text`` (this column's value, from any statement of the request) on the request's
    ASGI ``state``: the answer's ``extensions.freshness`` reads it (gateway/consistency.py)
    instead of reading ``sync_state`` again."""
    state.sync_text = text


@lru_cache(maxsize=16)
def states(text: str, expected: tuple[tuple[str, str], ...]) -> tuple[SourceState, ...]:
    """The column's rows as ``readmodel.reads.freshness.source_states`` makes them from
    ``sync_state`` (a NEVER state for each ``expected`` pair without a row), computed once per
    text: between two syncs every answer carries the same one (a few kB)."""
    return tuple(source_states(_rows(json.loads(text)), expected))


def _rows(values: Any) -> list[SimpleNamespace]:
    return [
        SimpleNamespace(
            **{k: row[k] for k in PLAIN},
            **{k: None if row[k] is None else datetime.fromisoformat(row[k]) for k in TIMES},
        )
        for row in values
    ]
