"""The SQL that differs between PostgreSQL and SQLite: building JSON, base64url, dates.

Every method returns SQL text. Values that are JSON already (objects, arrays, booleans built
here) are marked by the callers with ``nested``: SQLite forgets that a subquery's text is JSON,
so it must be wrapped in ``json(…)`` to be embedded rather than quoted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

At = tuple[tuple[str, bool], ...]
"""A place in the response: its response keys from the root, each with whether its value is
a list (of objects)."""

MAX_PAIRS = 50
"""Most keys one JSON object may have (PostgreSQL functions take at most 100 arguments)."""


class TooWide(Exception):
    """An object with more keys than one JSON function call can build."""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Dialect:
    name: str
    sa_dialect: Any = field(compare=False)  # SQLAlchemy's, to render the row rules

    @property
    def postgres(self) -> bool:
        return self.name == "postgresql"

    def literal(self, text: str) -> str:
        return _quote(text)

    def obj(self, pairs: list[tuple[str, str]]) -> str:
        """A JSON object from (key, SQL value) pairs, keys in order."""
        if len(pairs) > MAX_PAIRS:
            raise TooWide(len(pairs))
        args = ", ".join(f"{_quote(k)}, {v}" for k, v in pairs)
        return f"json_build_object({args})" if self.postgres else f"json_object({args})"

    def nested(self, sql: str) -> str:
        """A JSON value that comes out of a subquery, embedded as JSON (not as a string)."""
        return sql if self.postgres else f"json({sql})"

    def agg(self, value: str, order: str) -> str:
        """The JSON array of ``value`` over the rows, in ``order`` (``[]`` when none)."""
        if self.postgres:
            return f"coalesce(json_agg({value} ORDER BY {order}), '[]'::json)"
        return f"json_group_array(json({value}))"  # rows arrive ordered (see compile.many)

    def boolean(self, condition: str) -> str:
        """A JSON boolean (or null) from an SQL condition."""
        if self.postgres:
            return f"({condition})"
        return (
            f"json(CASE WHEN ({condition}) IS NULL THEN NULL WHEN ({condition}) "
            "THEN 'true' ELSE 'false' END)"
        )

    def bool_param(self, name: str) -> str:
        if self.postgres:
            return f"CAST(:{name} AS BOOLEAN)"
        return f"json(CASE WHEN :{name} THEN 'true' ELSE 'false' END)"

    def cond_param(self, name: str) -> str:
        """A boolean parameter as an SQL condition."""
        return f"CAST(:{name} AS BOOLEAN)" if self.postgres else f":{name}"

    def bigint_param(self, name: str) -> str:
        """An integer parameter that may be null (typed, so PostgreSQL need not guess)."""
        return f"CAST(:{name} AS BIGINT)"

    def b64url(self, text: str) -> str:
        """Unpadded base64url of ``text`` (ids, cursors)."""
        if self.postgres:
            return (
                f"rtrim(translate(encode(convert_to({text}, 'UTF8'), 'base64'), "
                "E'+/\\n', '-_'), '=')"
            )
        return f"cg_b64url({text})"

    def invalid_json(self, text: str) -> str:
        """An expression that fails when evaluated (not when planned: it reads a column)."""
        return f"CAST({text} || '{{' AS json)" if self.postgres else f"json({text} || '{{')"

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

    def decimal2(self, hundredths: str) -> str:
        """An integer count of hundredths as Python's ``Decimal`` quantized to 0.01 prints it
        (``-5`` → ``-0.05``; null counts as 0), as a JSON string."""
        n = f"coalesce({hundredths}, 0)"
        if self.postgres:  # an exact numeric of scale 2 (0 + 2) prints as Decimal does
            return f"CAST({n} * 0.01 AS TEXT)"
        sign = f"CASE WHEN {n} < 0 THEN '-' ELSE '' END"
        return f"printf('%s%d.%02d', {sign}, abs({n}) / 100, abs({n}) % 100)"

    def ten_thousandths(self, column: str) -> str:
        """An integer count of ten-thousandths as ``float(Decimal)`` gives it (null stays
        null): the integer is exact as a double and one IEEE division rounds correctly."""
        if self.postgres:
            return f"(CAST({column} AS DOUBLE PRECISION) / 10000)"
        return f"({column} / 10000.0)"

    def utc_time(self, column: str) -> str:
        """A ``UTCDateTime`` as ``datetime.isoformat()`` prints it aware in UTC
        (``2026-01-05T09:30:00+00:00``, microseconds only when not zero), as a JSON string.
        SQLite text not in SQLAlchemy's storage format fails the statement (see
        ``invalid_json``), so the per-field path answers."""
        if self.postgres:
            utc = f"({column} AT TIME ZONE 'UTC')"
            micro = f"CAST(extract(microseconds FROM {utc}) AS BIGINT) % 1000000"
            return (
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
        return (
            f"(CASE WHEN {column} IS NULL THEN NULL WHEN {column} GLOB {stored} THEN {text} "
            f"ELSE {self.as_text(self.invalid_json(column))} END)"
        )

    def date_param(self, name: str) -> str:
        return f"CAST(:{name} AS DATE)" if self.postgres else f":{name}"

    def days_between(self, later: str, earlier: str) -> str:
        if self.postgres:
            return f"({later} - {earlier})"
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"

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
