"""The records a mutation names, checked on their rows: the reference semantics.

A mutation declares its targets and what must hold of them on its ``Checker``
(resolvers/commands/validation.py); ``settle`` runs those checks on the rows as read and gives
the ``Write`` with the rows' values in place — or the refusal, exactly as the client hears it:

1. each target's keys in order: a row missing (or outside the caller's scope) is NOT_FOUND,
   one held from a system other than the owner NOT_OWNED, naming the field that gave the id;
2. then the problems and row checks declared after the first target, in order, as one
   VALIDATION_FAILED naming every field.

On PostgreSQL the same declaration also guards the statement that logs the command
(readmodel/command_targets.py): there these checks run only when the statement wrote nothing,
to say why. On SQLite the rows are read first (``read_rows``), then settled, then logged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from readmodel.command_targets import Col, Guard
from readmodel.raw_reads import Reading
from readmodel.reads.scope import RowScope
from resolvers.commands.errors import CommandRefused, RefusalCode
from resolvers.commands.ownership import check_owned, live_records
from resolvers.commands.validation import Checker, FieldProblem

Found = Sequence[Mapping[int, Any]]
"""Each target's rows by key (attribute access: ``row.status``)."""


def guard_of(check: Checker) -> Guard:
    """The declaration as the statement's guard: targets and row checks (what SQL runs)."""
    expects = tuple(step.expect for step in check.after_rows if not isinstance(step, FieldProblem))
    return Guard(tuple(named.target for named in check.targets), expects)


def decided(check: Checker) -> bool:
    """Whether the input alone already fails the checks declared after the targets (then
    the command is refused whatever the rows hold: only their NOT_FOUND comes first)."""
    return any(isinstance(step, FieldProblem) for step in check.after_rows)


async def read_rows(conn: Reading, check: Checker, scope: RowScope) -> list[dict[int, Any]]:
    """Each target's live rows in ``scope``, by key: one statement per target."""
    return [
        await live_records(conn, named.target.entity, named.target.keys, scope)
        for named in check.targets
    ]


def rows_of(read: list[list[dict[str, Any]]]) -> list[dict[int, Any]]:
    """Rows as the guarded statement returns them (JSON objects), by key."""
    return [{row["id"]: SimpleNamespace(**row) for row in rows} for rows in read]


def settle(check: Checker, write: Any, found: Found) -> Any:
    """``write`` with its rows' values (``Col``s) in place, if the checks hold; else raise."""
    for named, rows in zip(check.targets, found, strict=True):
        target = named.target
        for key, field in zip(target.keys, named.fields, strict=True):
            row = rows.get(key)
            if row is None:
                noun = target.entity.replace("_", " ")
                raise CommandRefused(RefusalCode.NOT_FOUND, f"{field}: no such {noun}")
            check_owned(row, target.entity, target.owner, field)
    problems = Checker()
    for step in check.after_rows:
        if isinstance(step, FieldProblem):
            problems.problems.append(step)
            continue
        named = check.targets[step.expect.target]
        for key, own_field in zip(named.target.keys, named.fields, strict=True):
            row = found[step.expect.target][key]
            if getattr(row, step.expect.column) != step.expect.value:
                problems.add(step.field or own_field, step.message(row))
    problems.refuse_if_any()
    return replace(
        write,
        target_source_id=value_of(write.target_source_id, check, found),
        payload={k: value_of(v, check, found) for k, v in write.payload.items()},
    )


def value_of(value: Any, check: Checker, found: Found) -> Any:
    """A payload value with any ``Col`` replaced by its row's value (as ``as_payload``
    stores values: strings, lists of strings)."""
    if isinstance(value, Col):
        keys = check.targets[value.target].target.keys
        rows = found[value.target]
        values = [str(getattr(rows[key], value.column)) for key in keys]
        return values if value.every else values[0]
    if isinstance(value, Mapping):
        return {k: value_of(v, check, found) for k, v in value.items()}
    if isinstance(value, list):
        return [value_of(v, check, found) for v in value]
    return value
