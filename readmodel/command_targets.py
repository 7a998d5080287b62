"""The records a command names, and the guard that logs it only while they hold (PostgreSQL).

A mutation's checks split in two: those of its input alone (ids, dates, amounts; run in Python
before anything is read) and those of the records it names (``Target``: live, in the caller's
scope, held from the entity's owner; ``Expect``: a column among allowed values, say a milestone
still ``planned`` or an amount in the project's currency). The payload may carry values of
those records too (``Col``: a project's source id, its currency).

On PostgreSQL the second half runs inside the statement that logs the command
(readmodel/command_intake.py), so a command is accepted in one round trip::

    WITH cg_t0 AS (SELECT id, source_system, source_id, … FROM project
                   WHERE id = ANY(:cg_k0) AND deleted_at IS NULL [AND <caller's scope>]),
         cg_ok AS (SELECT <payload, the rows' values spliced in> AS payload, …
                   WHERE (SELECT count(*) FROM cg_t0 WHERE source_system = :cg_o0
                          AND status = ALL(:cg_e0_status) …) = cardinality(:cg_k0)),
         cg_c AS (INSERT INTO command (…) SELECT …, cg_ok.payload, … FROM cg_ok
                  ON CONFLICT … DO NOTHING RETURNING command.*), …

When the targets do not hold, nothing is written and the statement returns the rows it read:
the resolver's own checks (resolvers/commands/targets.py, the reference semantics, which also
serve SQLite) then say why, naming every field, exactly as when they run on their own. Both
halves are one declaration, read by the two evaluators: the SQL guard passes exactly when the
Python checks do (tests/resolvers/commands/test_one_round_trip.py sends generated calls of
every mutation to both and compares answers and logged commands). Every value the guard binds
is one the Python checks have already found well-formed (an amount's currency is three capital
letters before it is compared with a record's), so the statement never fails on input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, String, Table, and_
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import TypeEngine

from readmodel import tables
from readmodel.command_log import payload_text
from readmodel.reads.scope import RowScope

ENTITY_TABLES: dict[str, Table] = {
    "opportunity": tables.table_of(tables.Opportunity),
    "project": tables.table_of(tables.Project),
    "milestone": tables.table_of(tables.Milestone),
    "time_entry": tables.table_of(tables.TimeEntry),
    "change_order": tables.table_of(tables.ChangeOrder),
    "invoice": tables.table_of(tables.Invoice),
    "payment": tables.table_of(tables.Payment),
    "person": tables.table_of(tables.Person),
}
"""Entity name (as in the ownership map and ``command.target_object``) → its table."""

READS = ("id", "source_system", "source_id", "currency", "status", "is_closed", "is_won")
"""The columns a target's row is read with (those its table has): what the checks and their
messages look at."""


@dataclass(frozen=True)
class Col:
    """A value of target ``target``'s row, known once the row is read: ``column`` of its one
    row, or (``every``) of all its rows, a list in the order of its keys.

    It has no truth value and no text: ``if row.is_closed:`` or ``str(row.source_id)`` in a
    mutation's ``build`` would silently test or write the placeholder, so they raise.
    """

    target: int
    column: str
    every: bool = False

    def __bool__(self) -> bool:
        raise TypeError(f"{self.column} is not read yet: declare a check (Checker.expect)")

    def __str__(self) -> str:
        raise TypeError(f"{self.column} is not read yet: put the Col itself in the payload")


@dataclass(frozen=True)
class Target:
    """The live rows ``keys`` of ``entity`` (distinct keys), which must be in the caller's
    scope and held from ``owner``."""

    entity: str
    keys: tuple[int, ...]
    owner: str


@dataclass(frozen=True)
class Expect:
    """Every row of target ``target`` has ``column`` equal to ``value`` (a column of
    ``READS``: the rows the statement returns have no others)."""

    target: int
    column: str
    value: Any


@dataclass(frozen=True)
class Guard:
    """What a command's acceptance needs of the records it names."""

    targets: tuple[Target, ...]
    expects: tuple[Expect, ...] = ()


class RowOf:
    """Stands for a target's row while the checks are declared: ``row.currency`` is
    ``Col(target, "currency")`` (``every=True``: the column of all its rows)."""

    def __init__(self, target: int, *, every: bool = False) -> None:
        self._target, self._every = target, every

    def single(self, column: str) -> Col:
        """``column`` of the target's only row (a target of one key)."""
        return Col(self._target, column)

    def __getattr__(self, column: str) -> Col:
        if column.startswith("_"):
            raise AttributeError(column)
        return Col(self._target, column, self._every)


def _expected(guard: Guard, target: int) -> dict[str, list[Any]]:
    """The values each column of target ``target``'s rows must equal, by column."""
    out: dict[str, list[Any]] = {}
    for expect in guard.expects:
        if expect.target == target:
            out.setdefault(expect.column, []).append(expect.value)
    return out


@cache
def _array_of(table: str, column: str) -> ARRAY:
    """The array type of a column's values (made once: the statement's shape keys on it)."""
    return ARRAY(ENTITY_TABLES[table].c[column].type)


def columns_of(entity: str) -> tuple[str, ...]:
    table = ENTITY_TABLES[entity]
    return tuple(name for name in READS if name in table.c)


KEYS = ARRAY(BigInteger)


@dataclass(frozen=True)
class Rendered:
    """The guard's part of the statement: its CTEs (``cg_t<n>``, ``cg_ok``), the items its
    select list adds and its bind parameters' names and types: a shape, the same for the
    commands of a mutation with the same optional parts (an amount given or not…) by callers
    of the same row rules, so its statement is built and prepared once for them all (keys,
    expected values, owner and payload text are bound values)."""

    ctes: str
    payload: str
    target_source_id: str
    items: tuple[str, ...]
    binds: tuple[tuple[str, TypeEngine[Any]], ...]


def render(
    guard: Guard, payload: Mapping[str, Any], target_source_id: Any, scope: RowScope
) -> tuple[Rendered, dict[str, Any]]:
    """The SQL of ``guard`` for a caller in ``scope``, with the ``payload`` text (the JSON
    ``command_log.values_of`` writes: keys sorted) and ``target_source_id`` taken from the
    rows where they hold ``Col``s; and the values of its bind parameters."""
    binds: list[tuple[str, TypeEngine[Any]]] = []
    values: dict[str, Any] = {}
    ctes, passed, items = [], [], []
    for n, target in enumerate(guard.targets):
        table = ENTITY_TABLES[target.entity]
        where = [f"{table.name}.id = ANY(:cg_k{n})", f"{table.name}.deleted_at IS NULL"]
        binds.append((f"cg_k{n}", KEYS))
        values[f"cg_k{n}"] = list(target.keys)
        scoped, scope_values = _scope_sql(scope, table, f"cg_s{n}_")
        if scoped:
            where.append(scoped)
            values.update(scope_values)
        cols = ", ".join(f"{table.name}.{c}" for c in columns_of(target.entity))
        ctes.append(f"cg_t{n} AS (SELECT {cols} FROM {table.name} WHERE {' AND '.join(where)})")
        held = [f"source_system = :cg_o{n}"]
        binds.append((f"cg_o{n}", table.c.source_system.type))
        values[f"cg_o{n}"] = target.owner
        for column, wanted in _expected(guard, n).items():  # one array per column: the
            name = f"cg_e{n}_{column}"  # text is the same however many checks it holds
            held.append(f"{column} = ALL(:{name})")
            binds.append((name, _array_of(table.name, column)))
            values[name] = wanted
        passed.append(
            f"(SELECT count(*) FROM cg_t{n} WHERE {' AND '.join(held)}) = cardinality(:cg_k{n})"
        )
        items.append(f"CASE WHEN cg_c.id IS NULL THEN (SELECT CAST(json_agg(cg_t{n}) AS TEXT) "
                     f"FROM cg_t{n}) END AS cg_rows{n}")  # fmt: skip
    text, parts = _payload_sql(payload, guard)
    for p, part in enumerate(parts):
        values[f"cg_p{p}"] = part
    tsid = _value_sql(target_source_id, guard, raw=True) if target_source_id is not None else None
    ok = (
        f"cg_ok AS (SELECT {text} AS payload, CAST({tsid or 'NULL'} AS VARCHAR) AS "
        f"target_source_id WHERE {' AND '.join(passed) or 'true'})"
    )
    items.append("(SELECT count(*) FROM cg_ok) AS cg_passed")
    shape = Rendered(
        ", ".join([*ctes, ok]),
        "cg_ok.payload",
        "cg_ok.target_source_id",
        tuple(items),
        tuple(binds),
    )
    return shape, values


SPLICE = "\x00cg"
_SPLICED = re.compile(r'"\\u0000cg(\d+)"')


def _payload_sql(payload: Mapping[str, Any], guard: Guard) -> tuple[str, list[str]]:
    """The payload's JSON text as SQL: ``command_log.payload_text`` (``json.dumps`` with
    sorted keys, UTF-8 kept) with each ``Col`` spliced in as the row's value in JSON by PostgreSQL's
    ``to_json`` (which escapes as ``json.dumps`` does then: the same bytes; ``cg_p<n>``: the
    text around them)."""
    cols: list[Col] = []

    def mark(value: Any) -> Any:
        if isinstance(value, Col):
            cols.append(value)
            return f"{SPLICE}{len(cols) - 1}"
        if isinstance(value, Mapping):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    dumped = payload_text(mark(dict(payload)))
    pieces = _SPLICED.split(dumped)  # text, index, text, index, …, text
    parts, spliced = pieces[0::2], [cols[int(i)] for i in pieces[1::2]]  # in the text's order
    if len(spliced) != len(cols):
        raise ValueError("a payload value holds the splice marker")  # NUL: refused as input
    sql = ["CAST(:cg_p0 AS TEXT)"]
    for n, col in enumerate(spliced):
        sql.append(_value_sql(col, guard))
        sql.append(f"CAST(:cg_p{n + 1} AS TEXT)")
    return " || ".join(sql), parts


def _value_sql(col: Any, guard: Guard, *, raw: bool = False) -> str:
    """A ``Col`` as SQL: its JSON text (``raw``: the value itself, one row's only)."""
    if not isinstance(col, Col):
        raise TypeError(f"not a row's value: {col!r}")
    target = guard.targets[col.target]
    _payload_column(target.entity, col.column)
    if col.every:
        order = f"array_position(:cg_k{col.target}, id)"
        value = f"json_agg({col.column} ORDER BY {order})"
    elif len(target.keys) != 1:
        raise ValueError(f"{col.column} of {len(target.keys)} rows: say every=True")
    else:
        value = col.column if raw else f"to_json({col.column})"
    return f"(SELECT CAST({value} AS TEXT) FROM cg_t{col.target})"


@cache
def _payload_column(entity: str, column: str) -> None:
    """Refuse a column whose value cannot be spliced into a payload as ``as_payload`` writes
    it: text, never NULL, read with the row (checked once per column)."""
    table = ENTITY_TABLES[entity]
    if table.c[column].nullable or column not in READS:
        raise ValueError(f"{table.name}.{column} is not a payload value")
    kind = table.c[column].type
    if not isinstance(getattr(kind, "impl_instance", kind), String):  # as_payload writes text
        raise ValueError(f"{table.name}.{column} is not text")


_NAMED = postgresql.dialect(paramstyle="named")
_BIND = re.compile(r"(?<![:\w]):(\w+)")
_CAST = re.compile(r"(?<![:\w]):(\w+)::(\w+(?:\(\d+\))?)")


def _scope_sql(scope: RowScope, table: Table, prefix: str) -> tuple[str, dict[str, Any]]:
    """The caller's row rules on ``table`` as SQL text with named binds (``prefix``ed) and
    their values: compiled by SQLAlchemy once per rules, table and prefix."""
    if scope.unrestricted:
        return "", {}
    key = (scope.accounts, scope.owner, table.name, prefix)
    found = _SCOPE_SQL.get(key)
    if found is None:
        compiled = and_(*scope.conditions(table)).compile(
            dialect=_NAMED, compile_kwargs={"render_postcompile": True}
        )
        sql = _CAST.sub(r"CAST(:\1 AS \2)", str(compiled))  # text() reads :a::T as no bind
        if "::" in sql or "'" in sql:  # a cast or a literal this renaming cannot read
            raise ValueError(f"row rules on {table.name} the statement cannot take: {sql}")
        sql = _BIND.sub(lambda m: f":{prefix}{m.group(1)}", sql)
        params = {prefix + name: value for name, value in compiled.params.items()}
        if len(_SCOPE_SQL) >= SCOPES_KEPT:
            _SCOPE_SQL.clear()
        found = _SCOPE_SQL[key] = (sql, params)
    return found


SCOPES_KEPT = 4096
_SCOPE_SQL: dict[tuple[Any, ...], tuple[str, dict[str, Any]]] = {}
"""Row rules as text, by (accounts, owner, table, prefix): a caller's compile once, not per
write (at most ``SCOPES_KEPT``, then all are dropped and compiled again as needed)."""
