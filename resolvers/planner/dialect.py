"""The SQL that differs between PostgreSQL and SQLite: building JSON, base64url, dates.

Every method returns SQL text. Values that are JSON already (objects, arrays, booleans built
here) are marked by the callers with ``nested``: SQLite forgets that a subquery's text is JSON,
so it must be wrapped in ``json(…)`` to be embedded rather than quoted.

On PostgreSQL an object is *text* made by concatenation (``'{"id":' || … || '}'``), not
``json_build_object``, and a list is ``string_agg`` of its objects' text: ``json_build_object``
looks up every argument's type and output function at each call, which made most of the
statement's JSON cost (an invoice with two ``Money`` objects: 2.6–3.1 µs per row against
1.1–1.8 µs concatenated, 100,000 rows). So each value says how it becomes JSON, by its class:
``Json`` (JSON text already: objects, lists, booleans, ``null``), ``Quoted`` (text that needs no
escaping: enum names, money amounts, ids, times — put between quotes), ``Number`` (its text is
a JSON number), ``Literal`` (a constant: its JSON is written into the statement); any other
value is encoded by ``to_json`` (names, dates, anything whose type the planner does not know).
Null is ``null`` for every kind. SQLite builds its JSON with its functions, as before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


class Json(str):
    """SQL whose value is JSON text already (PostgreSQL) or a JSON value (SQLite)."""


class Quoted(str):
    """SQL text whose characters need no escaping in JSON: a JSON string between quotes."""


class Number(str):
    """SQL of a number type: its text is a JSON number (never NaN or infinite here)."""


class Literal(str):
    """A quoted SQL constant; ``text`` is its value (its JSON is made when it is embedded)."""

    text: str

    def __new__(cls, text: str) -> Literal:
        quoted = super().__new__(cls, _quote(text))
        quoted.text = text
        return quoted


At = tuple[tuple[str, bool], ...]
"""A place in the response: its response keys from the root, each with whether its value is
a list (of objects)."""

MAX_PAIRS = 50
"""Most keys one JSON object may have (PostgreSQL functions take at most 100 arguments)."""


class TooWide(Exception):
    """An object with more keys than one JSON function call can build."""


def _quote(text: str) -> str:
    """An SQL string literal of ``text`` for a ``text()`` statement, whose ``:name`` would be
    a bind parameter even between quotes: its colons are escaped (``\\:``, which SQLAlchemy
    unescapes)."""
    return "'" + text.replace("'", "''").replace(":", "\\:") + "'"


@dataclass(frozen=True)
class Dialect:
    name: str
    sa_dialect: Any = field(compare=False)  # SQLAlchemy's, to render the row rules

    @property
    def postgres(self) -> bool:
        return self.name == "postgresql"

    def literal(self, text: str) -> Literal:
        return Literal(text)

    def obj(self, pairs: list[tuple[str, str]]) -> Json:
        """A JSON object from (key, SQL value) pairs, keys in order."""
        if len(pairs) > MAX_PAIRS:
            raise TooWide(len(pairs))
        if not self.postgres:
            return Json(f"json_object({', '.join(f'{_quote(k)}, {v}' for k, v in pairs)})")
        if not pairs:  # pragma: no cover - a selection set is never empty
            return Json("'{}'")
        parts = []
        for i, (key, value) in enumerate(pairs):
            parts.append(_quote(("{" if i == 0 else ",") + json.dumps(key) + ":"))
            parts.append(_json_text(value))
        return Json("(" + " || ".join(parts) + " || '}')")

    def nested(self, sql: str) -> Json:
        """A JSON value that comes out of a subquery, embedded as JSON (not as a string)."""
        return Json(sql if self.postgres else f"json({sql})")

    def agg(self, value: str, order: str) -> Json:
        """The JSON array of ``value`` (objects) over the rows, in ``order`` (``[]`` when
        none): an aggregate (``array`` is the cheaper form for a subquery's rows)."""
        if self.postgres:
            return Json(f"('[' || coalesce(string_agg({value}, ',' ORDER BY {order}), '') || ']')")
        return Json(f"json_group_array(json({value}))")  # rows arrive ordered (compile.many)

    def array(self, select: str, rows: str, order: str) -> str:
        """The JSON array of the objects (column ``j``) of ``select`` (aliased ``rows``) in
        ``order`` (``[]`` when none): a scalar subquery, to be ``nested``.

        On PostgreSQL an array of the texts, in the order of the subquery's own ``ORDER BY``
        (which the outer one repeats, so it is defined, and costs no second sort), joined:
        ``string_agg(… ORDER BY …)`` sorted every list again inside the aggregate (the
        portfolio's statement, 50 lists of invoices and one of accounts: 0.96 → 0.88 ms of
        PostgreSQL's CPU)."""
        if self.postgres:
            inner = f"SELECT {rows}.j FROM ({select}) {rows} ORDER BY {order}"
            return f"('[' || array_to_string(ARRAY({inner}), ',') || ']')"
        return f"(SELECT json_group_array(json({rows}.j)) FROM ({select}) {rows})"

    def boolean(self, condition: str) -> Json:
        """A JSON boolean (or null) from an SQL condition."""
        if self.postgres:
            return Json(
                f"(CASE WHEN ({condition}) THEN 'true' WHEN NOT ({condition}) THEN 'false' END)"
            )
        return Json(
            f"json(CASE WHEN ({condition}) IS NULL THEN NULL WHEN ({condition}) "
            "THEN 'true' ELSE 'false' END)"
        )

    def bool_param(self, name: str) -> Json:
        if self.postgres:
            return self.boolean(f"CAST(:{name} AS BOOLEAN)")
        return Json(f"json(CASE WHEN :{name} THEN 'true' ELSE 'false' END)")

    def cond_param(self, name: str) -> str:
        """A boolean parameter as an SQL condition."""
        return f"CAST(:{name} AS BOOLEAN)" if self.postgres else f":{name}"

    def bigint_param(self, name: str) -> str:
        """An integer parameter that may be null (typed, so PostgreSQL need not guess)."""
        return f"CAST(:{name} AS BIGINT)"

    def b64url(self, text: str) -> Quoted:
        """Unpadded base64url of ``text`` (ids, cursors)."""
        if self.postgres:
            return Quoted(
                f"rtrim(translate(encode(convert_to({text}, 'UTF8'), 'base64'), "
                "E'+/\\n', '-_'), '=')"
            )
        return Quoted(f"cg_b64url({text})")

    def invalid_json(self, text: str) -> str:
        """An expression that fails when evaluated (not when planned: it reads a column); of
        the type of the JSON built here (PostgreSQL: text)."""
        if self.postgres:
            return f"CAST(CAST({text} || '{{' AS json) AS TEXT)"
        return f"json({text} || '{{')"

    def unless_fails(self, condition: str, key: str) -> str:
        """A condition that is true when ``condition`` holds and fails the statement
        otherwise (CASE keeps the order of evaluation on both databases)."""
        failed = self.invalid_json(self.as_text(key))
        return f"CASE WHEN {condition} THEN 1 = 1 ELSE {failed} IS NULL END"

    def as_text(self, sql: str) -> str:
        return f"CAST({sql} AS TEXT)"

    def json_text(self, sql: str) -> str:
        """The statement's result column: JSON text."""
        return f"CAST({sql} AS TEXT)" if self.postgres else sql

    def decimal2(self, hundredths: str) -> Quoted:
        """An integer count of hundredths as Python's ``Decimal`` quantized to 0.01 prints it
        (``-5`` → ``-0.05``; null counts as 0), as a JSON string."""
        n = f"coalesce({hundredths}, 0)"
        if self.postgres:  # an exact numeric of scale 2 (0 + 2) prints as Decimal does
            return Quoted(f"CAST({n} * 0.01 AS TEXT)")
        sign = f"CASE WHEN {n} < 0 THEN '-' ELSE '' END"
        return Quoted(f"printf('%s%d.%02d', {sign}, abs({n}) / 100, abs({n}) % 100)")

    def ten_thousandths(self, column: str) -> Number:
        """An integer count of ten-thousandths as ``float(Decimal)`` gives it and ``json``
        writes it (null stays null): a count below 2^53 is exact as a double and one IEEE
        division rounds correctly. PostgreSQL writes a whole double without its fraction
        (``1``), Python with it (``1.0``): a whole ratio is written as its integer and ``.0``
        (a ratio is below 2^63 / 10^4 < 10^16, where Python would turn to exponents). Ratios
        of 2^53 / 10^4 (~9·10^11) and more may differ in their last digit: none occurs."""
        if self.postgres:
            whole = f"CAST({column} / 10000 AS TEXT) || '.0'"
            ratio = f"CAST(CAST({column} AS DOUBLE PRECISION) / 10000 AS TEXT)"
            return Number(f"(CASE WHEN {column} % 10000 = 0 THEN {whole} ELSE {ratio} END)")
        return Number(f"({column} / 10000.0)")

    def utc_time(self, column: str) -> Quoted:
        """A ``UTCDateTime`` as ``datetime.isoformat()`` prints it aware in UTC
        (``2026-01-05T09:30:00+00:00``, microseconds only when not zero), as a JSON string.
        SQLite text not in SQLAlchemy's storage format fails the statement (see
        ``invalid_json``), so the per-field path answers."""
        if self.postgres:
            utc = f"({column} AT TIME ZONE 'UTC')"
            micro = f"CAST(extract(microseconds FROM {utc}) AS BIGINT) % 1000000"
            return Quoted(
                f"(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN {micro} = 0 "
                f"THEN '' ELSE '.' || to_char({utc}, 'US') END || '+00:00')"
            )
        stored = "'" + "-".join(["[0-9]" * 4, "[0-9]" * 2, "[0-9]" * 2]) + " "
        stored += ":".join(["[0-9]" * 2] * 3) + "." + "[0-9]" * 6 + "'"
        text = (
            f"substr({column}, 1, 10) || 'T' || substr({column}, 12, 8) || CASE WHEN "
            f"substr({column}, 21, 6) = '000000' THEN '' ELSE '.' || substr({column}, 21, 6) "
            "END || '+00:00'"
        )
        return Quoted(
            f"(CASE WHEN {column} IS NULL THEN NULL WHEN {column} GLOB {stored} THEN {text} "
            f"ELSE {self.as_text(self.invalid_json(column))} END)"
        )

    def date_param(self, name: str) -> str:
        return f"CAST(:{name} AS DATE)" if self.postgres else f":{name}"

    def days_between(self, later: str, earlier: str) -> Number:
        if self.postgres:
            return Number(f"({later} - {earlier})")
        return Number(f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)")

    def plain_ascii(self, column: str) -> str:
        """SQL: ``column`` needs no escaping in Python's ``json.dumps`` (printable ASCII, no
        quote or backslash), so a cursor made of it in SQL equals the per-field one."""
        if self.postgres:
            return (
                f"({column} !~ '[^ -~]' AND strpos({column}, '\"') = 0 "
                f"AND strpos({column}, '\\') = 0)"
            )
        return (
            f"({column} NOT GLOB '*[^ -~]*' AND instr({column}, '\"') = 0 "
            f"AND instr({column}, '\\') = 0)"
        )


def _json_text(value: str) -> str:
    """PostgreSQL: ``value``'s JSON text (``null`` when it is null), by its kind."""
    if isinstance(value, Literal):
        return _quote(json.dumps(value.text))
    if isinstance(value, Json):
        return f"coalesce({value}, 'null')"
    if isinstance(value, Quoted):
        return f"coalesce('\"' || {value} || '\"', 'null')"
    if isinstance(value, Number):
        return f"coalesce(CAST({value} AS TEXT), 'null')"
    return f"coalesce(CAST(to_json({value}) AS TEXT), 'null')"
