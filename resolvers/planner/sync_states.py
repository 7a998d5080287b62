"""``extensions.freshness`` from the plan's own statement: ``sync_state``'s rows as one JSON
column (``cg_sync``) of the statement that reads the answer — or, on a response-cache hit, of
the statement that reads the counters — so a compiled answer costs one statement, not two,
and its freshness is of the same snapshot as its data (gateway/consistency.py reads them).

The rows are read only when they changed: every write of ``sync_state`` bumps its change
counter (migration 0017), the statement reads that counter (``cg_sync_v``) and builds the
rows' JSON only when the counter is not the one this process already holds the rows of (the
bound ``cg_sync_known``); otherwise ``cg_sync`` is null and the rows held are the snapshot's
(the counter and the rows change in one transaction). Between two syncs, answers carry the
same rows without the database formatting them (a few kB) for each; a process holds one text
per database (engine)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import Any
from weakref import WeakKeyDictionary

from readmodel.reads.freshness import SourceState, source_states
from resolvers.planner.dialect import Dialect

TIMES = ("last_success_at", "last_attempt_at", "paused_until")
PLAIN = ("system", "object_type", "records_applied", "records_applied_total", "last_error")
ORDER = "system, object_type"
VERSION = "(SELECT value FROM change_counter WHERE name = 'sync_state')"
KNOWN = "cg_sync_known"
"""The bound parameter: the counter whose rows the process holds (null: none held)."""


def column(d: Dialect) -> str:
    """The select-list items ``… AS cg_sync_v, … AS cg_sync``: the counter, and the rows as a
    JSON array in order unless the counter is ``:cg_sync_known`` (then null)."""
    rows = f"CASE WHEN {VERSION} = :{KNOWN} THEN NULL ELSE {expression(d)} END"
    return f"{VERSION} AS cg_sync_v, {rows} AS cg_sync"


def expression(d: Dialect) -> str:
    """``sync_state``'s rows as one JSON text (a scalar subquery), to read in any statement."""
    pairs = [(name, f"cg_s.{name}") for name in PLAIN]
    pairs += [(name, d.utc_time(f"cg_s.{name}")) for name in TIMES]
    rows = f"(SELECT * FROM sync_state ORDER BY {ORDER}) cg_s"
    # as text (not decoded by the driver): the same text between two syncs is parsed once
    return d.json_text(f"(SELECT {d.agg(d.obj(pairs), ORDER)} FROM {rows})")


@dataclass(frozen=True)
class Held:
    """The rows' text a process holds for a database, and the counter it was read at."""

    version: int | None = None
    text: str | None = None


NONE_HELD = Held()
_held: WeakKeyDictionary[Any, Held] = WeakKeyDictionary()  # by engine


def held(reads: Any) -> Held:
    """What this process holds for the database ``reads`` reads (an engine or a request's
    connection): bind its ``version`` as ``cg_sync_known``, and give it to ``text_of``."""
    return _held.get(_engine(reads), NONE_HELD)


def text_of(reads: Any, bound: Held, row: Any) -> str:
    """The rows' text of the snapshot ``row`` (a statement with ``column``) was read in: its
    own, or ``bound``'s when the statement left them out (the counter was ``bound.version``).
    A newer text is held for the next statements."""
    if row.cg_sync is None:
        assert bound.text is not None  # null only when the counter equals a held version
        return bound.text
    version = row.cg_sync_v
    if version is not None:
        engine = _engine(reads)
        current = _held.get(engine, NONE_HELD).version
        if current is None or version > current:
            _held[engine] = Held(version, row.cg_sync)
    return str(row.cg_sync)


def _engine(reads: Any) -> Any:
    engine = getattr(reads, "engine", reads)  # a RequestConnection's, or the engine itself
    return getattr(engine, "sync_engine", engine)


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
