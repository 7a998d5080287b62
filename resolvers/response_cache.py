"""The exact response cache of the compiled read path: an answer's ``data`` (the JSON text one
statement made) kept per (plan, bound values), served again only while the change counters of
every table the plan reads are what they were when the answer was read.

The guarantee, precisely: every write to a counted table bumps that table's row of
``change_counter`` in the writing transaction itself (the database's triggers, migration 0015;
no code path can forget it). PostgreSQL bumps at the transaction's commit, but still inside it:
the data and the bump become visible together, so a snapshot sees both or neither. An answer is
stored with the counters read *by the same statement* that read its rows (one snapshot), and is
served only after a statement of this request read the same counters again. So a served answer
is exactly what the statement would return now: a write committed before the request's counter
read is always seen, on any process, with no notification to wait for. A hit costs at most
one statement on ``change_counter`` (it also reads ``sync_state`` for the answer's
``extensions.freshness``), none on the read-model tables; on PostgreSQL the hits asking at the
same time share one (resolvers/planner/hit_check.py), and while the process holds the
counters' lease, which committing writers wait for, none (resolvers/planner/lease.py).

The key is the plan's key (document, operation, dialect, the caller's role and row rules) and
every bound value (variables after coercion, the request's today, ids, cursors): two callers
share an entry only when their rule set and inputs are the same, i.e. when the statement would
be the same text with the same parameters. Bounded: least recently used entries go once the
answers kept exceed ``max_bytes`` (``graphql.response_cache_mb``; 0 turns the cache off).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from clientgraph.metrics import cache_lookup
from readmodel.tables import metadata

COUNTED = frozenset(
    {
        "account",
        "account_xref",
        "contact",
        "opportunity",
        "person",
        "engagement",
        "rate_card",
        "rate_card_line",
        "project",
        "milestone",
        "assignment",
        "time_entry",
        "change_order",
        "invoice",
        "payment",
        "account_figures",
        "account_health_factor",
        "project_figures",
        "engagement_figures",
        "project_outlook",  # migration 0016
        "project_outlook_factor",
    }
)
"""The tables whose writes bump a counter (the triggers of migrations 0015 and 0016)."""

OLDEST_SUCCESS = "(SELECT min(last_success_at) FROM sync_state)"
"""What a plan may read of ``sync_state`` (``AccountHealth.asOf``: the oldest successful pull),
written exactly so by the planner. No counter follows ``sync_state`` (every pull writes it);
a plan that reads it only through this expression is checked by the expression's own value,
read in the same snapshot as the answer, like a counter: exact, and renewed only when the
oldest pull moves. Any other read of ``sync_state`` makes a plan uncacheable."""

LAST_COLUMN = " AS fallback"
"""How a plan's statement ends (resolvers/planner/compile.py): its select list's last column."""
_WORD = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class Counters:
    """How a plan's answers are checked: the tables it reads, and the SQL reading their
    counters (a select list, and a whole statement)."""

    tables: tuple[str, ...]

    @property
    def columns(self) -> str:
        """``(SELECT value FROM change_counter WHERE name = 't') AS cg_c0, …`` (for
        ``sync_state``: ``OLDEST_SUCCESS``)."""
        return ", ".join(
            f"{OLDEST_SUCCESS if t == 'sync_state' else _counter(t)} AS cg_c{i}"
            for i, t in enumerate(self.tables)
        )

    def of(self, row: Any) -> tuple[Any, ...]:
        mapping = row._mapping
        return tuple(mapping[f"cg_c{i}"] for i in range(len(self.tables)))

    def kept_by(self, values: tuple[Any, ...]) -> bool:
        """Whether an answer read with these counter values may be kept: every counted table
        has its counter row. Without one (deleted by hand, a table added to ``COUNTED``
        without its row) the value reads as null, before and after a write alike, so an
        answer kept with it would never be refused; such answers are not kept. (``sync_state``
        is ``OLDEST_SUCCESS``: null until a first pull, and moved by it.)"""
        return all(
            v is not None for t, v in zip(self.tables, values, strict=True) if t != "sync_state"
        )


def _counter(table: str) -> str:
    return f"(SELECT value FROM change_counter WHERE name = '{table}')"


def counters_for(sql: str) -> Counters | None:
    """The counters a statement's answers depend on, or ``None`` when it may read a table no
    counter follows (such answers are never cached). Every word of the text that names a
    table counts as read (a JSON key equal to a table name only makes the check wider);
    ``sync_state`` counts only when read through ``OLDEST_SUCCESS`` and nowhere else."""
    named = _tables(sql)
    followed = COUNTED
    if "sync_state" not in _tables(sql.replace(OLDEST_SUCCESS, " ")):
        followed = COUNTED | {"sync_state"}  # read only as the oldest pull, if at all
    if not named or not named <= followed or not sql.endswith(LAST_COLUMN):
        return None
    return Counters(tuple(sorted(named)))


def _tables(sql: str) -> set[str]:
    return {w for w in _WORD.findall(sql) if w in metadata.tables}


@dataclass(frozen=True)
class Entry:
    data: str
    counters: tuple[Any, ...]
    masked: tuple[str, ...] = ()  # the answer's masked paths (they depend on its rows too)


class ResponseCache:
    """Answers by key, least recently used out first once their text exceeds ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> Entry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: Hashable, entry: Entry) -> None:
        if _cost(entry) > self.max_bytes:
            return
        self.discard(key)
        self._entries[key] = entry
        self.size += _cost(entry)
        while self.size > self.max_bytes:
            _, old = self._entries.popitem(last=False)
            self.size -= _cost(old)

    def discard(self, key: Hashable) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self.size -= _cost(old)


ENTRY_OVERHEAD = 256
"""Bytes an entry costs besides its answer: its 32-byte key, the counters, the dict's slot."""


def _cost(entry: Entry) -> int:
    return len(entry.data) + sum(len(p) for p in entry.masked) + ENTRY_OVERHEAD


def response_cache(megabytes: int) -> ResponseCache | None:
    """The process's cache for ``graphql.response_cache_mb`` (``None``: off)."""
    return ResponseCache(megabytes * 1024 * 1024) if megabytes > 0 else None


def entry_key(plan_key: Hashable, params: Mapping[str, Any]) -> Hashable:
    """A digest of the plan's key and every bound value (each parameter's type is fixed by
    the plan): 32 bytes whatever the document's and the variables' size, so the cache's
    memory is its answers' (``ENTRY_OVERHEAD``), not its callers' texts."""
    bound = json.dumps(params, sort_keys=True, default=str)
    return hashlib.sha256(f"{plan_key!r}\x00{bound}".encode()).digest()


def counted_lookup(hit: bool) -> None:
    cache_lookup("response", hit)
