"""Per-field checks of a mutation's input, collected so the client hears every problem at once.

A ``Checker`` parses each field (ISO dates, decimal strings, global ids) and records a
``FieldProblem`` instead of raising, then ``refuse_if_any`` raises one ``VALIDATION_FAILED``
naming every bad field. Fields are named as the client wrote them (``amount.currency``).

It also takes the records a mutation names (``target``, ``targets``) and what must hold of
them (``expect``; an ``amount`` in a record's currency): from the first target on, checks are
declared, not run — the rows are not read yet. resolvers/commands/targets.py runs them on the
rows (and PostgreSQL in the statement that logs the command: readmodel/command_targets.py).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from readmodel.command_targets import READS, Col, Expect, RowOf, Target
from resolvers.commands.errors import CommandRefused, FieldProblem, RefusalCode
from resolvers.ids import KEY, MAX_ID_LENGTH, MAX_KEY

QUARTER_HOUR = Decimal("0.25")
CURRENCY = re.compile(r"[A-Z]{3}")  # ISO 4217, as the read model stores it
MIN_HOURS, MAX_HOURS = Decimal("0.25"), Decimal(24)
MAX_KEY_LENGTH = 128  # the command table's idempotency_key column


RESERVED_KEY_PREFIX = "handoff-"  # the keys sync_jobs.handoff.steps gives its commands
LARGEST = Decimal(10) ** 12  # no amount or hours figure in the firm comes near this


@dataclass(frozen=True)
class RowCheck:
    """``expect`` of each row of a target; else a problem on ``field`` (``None``: the row's
    own field, as its target names it) saying ``message(row)``."""

    expect: Expect
    field: str | None
    message: Callable[[Any], str]


@dataclass(frozen=True)
class Named:
    """A target with the input fields that named its keys (one per key)."""

    target: Target
    fields: tuple[str, ...]


class Checker:
    """Collects field problems; parsers return ``None`` for a bad value (already recorded)."""

    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []
        self.targets: list[Named] = []
        self.after_rows: list[FieldProblem | RowCheck] = []
        """Once a target is named: the problems and row checks, in order, that are reported
        after the targets are found (a missing record is NOT_FOUND, whatever else is wrong)."""

    def add(self, field: str, message: str) -> None:
        if self.targets:
            self.after_rows.append(FieldProblem(field, message))
        else:
            self.problems.append(FieldProblem(field, message))

    def target(self, entity: str, key: int, owner: str, field: str) -> Any:
        """The live ``entity`` row ``key`` held from ``owner`` (else NOT_FOUND / NOT_OWNED,
        naming ``field``); stands for the row: ``row.currency`` is its value (a ``Col``).
        The input's own problems so far are refused first (none is ever dropped)."""
        return self.targets_of(entity, [key], owner, [field], every=False)

    def targets_of(
        self,
        entity: str,
        keys: Sequence[int],
        owner: str,
        fields: Sequence[str],
        *,
        every: bool = True,
    ) -> Any:
        """The live rows ``keys`` (distinct), as ``target``; ``rows.source_id`` is the list
        of their source ids in the keys' order."""
        self.refuse_if_any()
        self.targets.append(Named(Target(entity, tuple(keys), owner), tuple(fields)))
        return RowOf(len(self.targets) - 1, every=every)

    def expect(
        self,
        value: Col,
        equals: str | bool,
        message: Callable[[Any], str],
        *,
        field: str | None = None,
    ) -> None:
        """Each row of ``value``'s target has ``value`` equal to ``equals``; else a problem
        on ``field`` (the row's own by default) saying ``message(row)``, which may read the
        row's ``command_targets.READS`` columns."""
        if value.column not in READS:
            raise ValueError(f"{value.column}: a target's rows are read with {READS} only")
        plain = str(equals) if isinstance(equals, str) else equals  # no StrEnums
        self.after_rows.append(RowCheck(Expect(value.target, value.column, plain), field, message))

    def refuse_if_any(self) -> None:
        """Raise ``VALIDATION_FAILED`` with every problem recorded so far (before targets)."""
        if self.problems:
            names = ", ".join(p.field for p in self.problems)
            raise CommandRefused(RefusalCode.VALIDATION_FAILED, f"invalid: {names}", self.problems)

    def key(self, field: str, global_id: str, type_name: str) -> int | None:
        """The key of a global id that must name a ``type_name`` (``base64url("Type:key")``).

        Only the canonical form decodes (as ``resolvers.ids``): ASCII digits within BIGINT,
        spelled as the API writes it, so a key never reaches the database out of range.
        """
        try:
            padded = global_id + "=" * (-len(global_id) % 4)
            decoded = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        except (binascii.Error, UnicodeError, ValueError):
            decoded = ""
        found, _, number = decoded.partition(":")
        canonical = base64.urlsafe_b64encode(decoded.encode()).decode().rstrip("=")
        if canonical != global_id or not KEY.fullmatch(number) or int(number) > MAX_KEY:
            self.add(field, f"{global_id[:MAX_ID_LENGTH]!r} is not a clientgraph id")
            return None
        if found != type_name:
            self.add(field, f"expected the id of a {type_name}")
            return None
        return int(number)

    def iso_date(self, field: str, text: str | None) -> date | None:
        """An ISO 8601 calendar date (``2026-07-31``)."""
        if text is None:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.add(field, f"{text!r} is not an ISO date (YYYY-MM-DD)")
            return None

    def decimal(self, field: str, text: str) -> Decimal | None:
        """A finite decimal number written as a string (``"1234.50"``)."""
        try:
            value = Decimal(text.strip())
        except (InvalidOperation, AttributeError):
            value = None
        if value is None or not value.is_finite():
            self.add(field, f"{text!r} is not a decimal number")
            return None
        if abs(value) >= LARGEST:  # also keeps quantize and % inside Decimal's precision
            self.add(field, f"must be less than {LARGEST:,} in size")
            return None
        return value

    def amount(
        self, field: str, text: str, currency: str, *, expected: str | Col, signed: bool = False
    ) -> Decimal | None:
        """Money in the record's currency, at most two decimals, ≥ 0 unless ``signed``.

        ``expected`` may be a target's currency (a ``Col``): then the currency is a row check,
        and the amount is returned whatever the record's currency turns out to be.
        """
        value = self.decimal(f"{field}.amount", text)
        if not CURRENCY.fullmatch(currency):
            self.add(f"{field}.currency", "must be a currency's three-letter code (EUR)")
        elif isinstance(expected, Col):
            self.expect(expected, currency, _currency_message, field=f"{field}.currency")
        elif currency != expected:
            self.add(f"{field}.currency", f"must be {expected}, the record's currency")
        if value is None:
            return None
        if value.as_tuple().exponent < -2:  # type: ignore[operator]
            self.add(f"{field}.amount", "at most two decimal places")
        elif value < 0 and not signed:
            self.add(f"{field}.amount", "must be zero or more")
        else:
            return value.quantize(Decimal("0.01"))
        return None

    def probability(self, field: str, value: int | None) -> None:
        if value is not None and not 0 <= value <= 100:
            self.add(field, "must be a whole percent from 0 to 100")

    def hours(self, field: str, text: str, *, signed: bool = False) -> Decimal | None:
        """Hours in quarter hours: 0.25–24 for a day's time (any sign for a budget delta)."""
        value = self.decimal(field, text)
        if value is None:
            return None
        if value % QUARTER_HOUR != 0:
            self.add(field, "must be in quarter hours (e.g. 1.25)")
        elif not signed and not MIN_HOURS <= value <= MAX_HOURS:
            self.add(field, f"must be from {MIN_HOURS} to {MAX_HOURS} hours")
        else:
            return value.quantize(Decimal("0.01"))
        return None

    def text(self, field: str, value: str | None, *, max_length: int, required: bool) -> None:
        if value is None or not value.strip():
            if required:
                self.add(field, "must not be empty")
        elif len(value) > max_length:
            self.add(field, f"at most {max_length} characters")
        elif "\x00" in value:  # PostgreSQL's text cannot hold it: the statement would fail
            self.add(field, "must not contain NUL (U+0000)")
        elif not _encodable(value):  # a lone surrogate: no UTF-8 for the database either
            self.add(field, "must be Unicode text (a lone surrogate is not)")

    def idempotency_key(self, value: str) -> None:
        self.text("idempotencyKey", value, max_length=MAX_KEY_LENGTH, required=True)
        if value.startswith(RESERVED_KEY_PREFIX):  # the handoff's own steps use these keys
            self.add("idempotencyKey", f"must not start with {RESERVED_KEY_PREFIX!r}")


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _currency_message(row: Any) -> str:
    return f"must be {row.currency}, the record's currency"


def as_payload(**values: object) -> dict[str, object]:
    """Validated values as the log stores them: strings (lists of strings), ``None`` dropped.

    Decimals keep their two places (``"1200.00"``), dates are ISO, booleans ``"true"``.
    """
    out: dict[str, object] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, Col):  # a record's value: known once its row is read
            out[name] = value
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, list):
            out[name] = [str(v) for v in value]
        else:
            out[name] = value.isoformat() if isinstance(value, date) else str(value)
    return out
