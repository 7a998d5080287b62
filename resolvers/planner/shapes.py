"""A plan's statement for one request's *shape*: the parameters that say how its pages are
found (a page's size when the document fixes it; whether a root page starts after a cursor)
written into the SQL as constants.

PostgreSQL runs a prepared statement either on a plan made once for any values (generic) or
on one made again at each execution for the values given (custom), and picks by their
estimated costs. A page written ``LIMIT $4`` and ``NOT $1 OR (name, id) > ($2, $3)`` has a
generic plan estimated for a tenth of the table and a keyset no index can serve, so
PostgreSQL planned the portfolio's and the deep overdue page's statements again at every
execution: 0.3–0.4 ms of their 1.3–1.8 ms of the server's CPU (bench/analysis.md, stop 31).
Written ``LIMIT 51`` and either without the keyset or with ``(name, id) > ($2, $3)``, the
generic plan is as good as the custom one, and PostgreSQL keeps it. SQLite's planner, which
never sees bound values, gets the same constants.

Only the page's shape is written in, not filters: a filter's switch written in let
PostgreSQL's generic plan for the overdue page pick the status index (its range estimated
from no values at all) and so kept the custom plans. Each shape (the tuple of those values)
has its own statement text, made once; a plan has at most ``MAX_SHAPES`` (beyond them, and for
a value that is not null, a boolean or an integer, the plan's own statement serves, every
value bound). The values stay among the bound parameters too: the response cache keys by them
as before, and a statement ignores what it does not name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

MAX_SHAPES = 8
"""Statements per plan: a page's after-or-not is two, a document's fixed sizes one each."""

T = TypeVar("T")


def constant(value: Any, *, postgres: bool) -> str | None:
    """``value`` as an SQL constant, or ``None`` when it is not one this module writes."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        if postgres:
            return "TRUE" if value else "FALSE"
        return "1" if value else "0"
    if type(value) is int:
        return str(value) if value >= 0 else f"({value})"
    return None


def written(sql: str, constants: Mapping[str, str]) -> str:
    """``sql`` with each bind parameter ``:name`` of ``constants`` replaced by its constant (a
    ``\\:`` inside a quoted literal is not a parameter, nor a PostgreSQL ``::`` cast)."""
    if not constants:
        return sql
    names = "|".join(re.escape(n) for n in sorted(constants, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\\\w:]):({names})(?!\w)")
    return pattern.sub(lambda m: constants[m.group(1)], sql)


class Shapes(Generic[T]):
    """What ``make`` builds from a plan's SQL, per shape of the parameters ``names``."""

    def __init__(
        self, sql: str, names: tuple[str, ...], postgres: bool, make: Callable[[str], T]
    ) -> None:
        self.sql, self.names, self.postgres, self.make = sql, names, postgres, make
        self.bound = make(sql)  # every value a parameter
        self._made: dict[tuple[Any, ...], T] = {}

    def of(self, params: Mapping[str, Any]) -> T:
        """The statements for ``params``' shape."""
        if not self.names:
            return self.bound
        values = [params[n] for n in self.names]
        shape = tuple((type(v), v) for v in values)  # True and 1 are different shapes
        found = self._made.get(shape)
        if found is not None:
            return found
        constants: dict[str, str] = {}
        for name, value in zip(self.names, values, strict=True):
            written_as = constant(value, postgres=self.postgres)
            if written_as is None:
                return self.bound
            constants[name] = written_as
        if len(self._made) >= MAX_SHAPES:
            return self.bound
        found = self._made[shape] = self.make(written(self.sql, constants))
        return found
