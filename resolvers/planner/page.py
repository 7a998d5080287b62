"""A root connection (``accounts``, ``projects``, ``invoices``, ``contacts``,
``opportunities``, ``engagements``, ``milestones``) in the statement: its page as
a CTE of numbered rows, and ``nodes``, ``edges``, ``pageInfo``, ``totalCount`` read from it the
way ``resolvers.connections`` and ``schema.common.connection`` make them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from graphql import FieldNode, GraphQLField, GraphQLObjectType, get_named_type
from sqlalchemy import Date, Integer

from resolvers.planner import catalog
from resolvers.planner.binding import Binding, Fallback
from resolvers.planner.dialect import At, Dialect
from resolvers.planner.selections import fixed, selection_sets

if TYPE_CHECKING:
    from resolvers.planner.compile import _Compiler


class Page:
    """A root connection: its page as a CTE (rows numbered), and what a selection asks of it."""

    def __init__(
        self, compiler: _Compiler, spec: catalog.Root, definition: GraphQLField, node: FieldNode
    ) -> None:
        self.c, self.spec = compiler, spec
        self.entity = catalog.ENTITIES[spec.type_name]
        self.table = compiler.table(self.entity.table)
        self.name = compiler.name("c")
        request = compiler.name("page")
        compiler.binders.append(
            lambda b, out: b.pages.__setitem__(request, b.page(definition, node, spec, self.table))
        )
        sized = fixed(node, "first")  # the page's shape: its size, and after a cursor or not
        self.first = compiler.param(lambda b: b.pages[request][0], shape=sized)
        limit = compiler.param(lambda b: b.pages[request][0] + 1, shape=sized)
        self.after = compiler.param(lambda b: b.pages[request][1] is not None, shape=True)
        keys = [
            compiler.param(_key_part(request, i, compiler.dialect))
            for i in range(len(spec.ordering))
        ]
        t = compiler.name("t")
        order = ", ".join(f"{t}.{c}" for c in spec.ordering)
        placeholders = ", ".join(f":{k}" for k in keys)
        d = compiler.dialect
        self.filters = self.overdue(definition, node) if spec.overdue_filter else []
        where = [
            *compiler.rows(self.entity.table, t),
            *(f.format(t=t) for f in self.filters),
            f"(NOT {d.cond_param(self.after)} OR ({order}) > ({placeholders}))",
        ]
        # numbered outside the limited rows: a window function between the sort and the
        # LIMIT made PostgreSQL sort every matching row (the deep overdue page: 27,884 rows,
        # on disk) instead of keeping the first ones (a top-N sort, or an index's order)
        s = compiler.name("s")
        numbered = ", ".join(f"{s}.{c}" for c in spec.ordering)
        compiler.ctes.append(
            f"{self.name} AS (SELECT {s}.*, row_number() OVER (ORDER BY {numbered}) AS cg_rn "
            f"FROM (SELECT {t}.* FROM {self.entity.table} {t} WHERE {' AND '.join(where)} "
            f"ORDER BY {order} LIMIT :{limit}) {s})"
        )
        self.checked: set[str] = set()  # text columns whose cursor check is in the statement

    def overdue(self, definition: GraphQLField, node: FieldNode) -> list[str]:
        """``filter: {overdue: …}`` as ``InvoiceQuery.conditions`` reads it (any other field
        of the filter set: this request falls back); ``{t}`` stands for the table's alias."""
        c, d = self.c, self.c.dialect
        wanted = c.param(lambda b: _overdue_only(b.argument(definition, node, "filter")))
        unset = c.param(lambda b: b.argument(definition, node, "filter") is None or None)
        open_ = ", ".join(d.literal(s) for s in catalog.OPEN_INVOICE)
        today = c.today_sql()
        overdue = (
            f"{{t}}.status IN ({open_}) AND {{t}}.due_date < {today} AND {{t}}.balance_minor > 0"
        )
        return [
            f"({d.cond_param(unset)} IS TRUE OR {d.cond_param(wanted)} IS NULL "
            f"OR ({overdue}) = {d.cond_param(wanted)})"
        ]

    def total(self) -> str:
        t = self.c.name("t")
        where = " AND ".join(
            [*self.c.rows(self.entity.table, t), *(f.format(t=t) for f in self.filters)]
        )
        return f"(SELECT count(*) FROM {self.entity.table} {t} WHERE {where})"

    def info(self, nodes: list[FieldNode]) -> str:
        d = self.c.dialect
        gql = self.c.schema.get_type("PageInfo")
        assert isinstance(gql, GraphQLObjectType)
        x = self.c.name("x")
        values = {
            "__typename": lambda: d.literal("PageInfo"),
            "hasNextPage": lambda: d.boolean(f"(SELECT count(*) FROM {self.name}) > :{self.first}"),
            "hasPreviousPage": lambda: d.bool_param(self.after),
            "startCursor": lambda: (
                f"(SELECT {self.cursor(x)} FROM {self.name} {x} "
                f"WHERE {x}.cg_rn = 1 AND {x}.cg_rn <= :{self.first})"
            ),
            "endCursor": lambda: (
                f"(SELECT {self.cursor(x)} FROM {self.name} {x} WHERE {x}.cg_rn <= :{self.first} "
                f"ORDER BY {x}.cg_rn DESC LIMIT 1)"
            ),
        }
        pairs: list[tuple[str, str]] = []
        for key, fields in self.c.collect(selection_sets(nodes), gql).items():
            make = values.get(fields[0].name.value)
            if make is None:
                raise Fallback(f"PageInfo.{fields[0].name.value}")
            pairs.append((key, make()))
        return d.obj(pairs)

    def items(self, nodes: list[FieldNode], at: At, *, edges: bool) -> str:
        """``nodes`` or ``edges`` (``at``: their place in the response, a list)."""
        d = self.c.dialect
        x, rows = self.c.name("x"), self.c.name("s")
        body = self.edge(nodes, x, at) if edges else self.c.obj(self.spec.type_name, nodes, x, at)
        page = f"FROM {self.name} {x} WHERE {x}.cg_rn <= :{self.first}"
        self.c.source(at, page, top=True)
        where = " AND ".join([f"{x}.cg_rn <= :{self.first}", *self.c.current(x)])
        select = (
            f"SELECT {body} AS j, {x}.cg_rn AS o0 FROM {self.name} {x}{self.c.joined(x)} "
            f"WHERE {where} ORDER BY {x}.cg_rn"
        )
        return d.nested(d.array(select, rows, f"{rows}.o0"))

    def edge(self, nodes: list[FieldNode], x: str, at: At) -> str:
        d = self.c.dialect
        edge_type = get_named_type(self.c.schema.get_type(self.spec.type_name + "Edge"))
        assert isinstance(edge_type, GraphQLObjectType)
        pairs: list[tuple[str, str]] = []
        for key, fields in self.c.collect(selection_sets(nodes), edge_type).items():
            name = fields[0].name.value
            if name == "__typename":
                pairs.append((key, d.literal(edge_type.name)))
            elif name == "cursor":
                pairs.append((key, self.cursor(x)))
            elif name == "node":
                node = (*at, (key, False))
                pairs.append((key, self.c.obj(self.spec.type_name, fields, x, node)))
                self.c.sources[node] = (at, lambda inner: inner)  # the edge's own row
            else:
                raise Fallback(f"{edge_type.name}.{name}")
        return d.obj(pairs)

    def cursor(self, x: str) -> str:
        """``encode_cursor``'s text, made in SQL (a text key that JSON would escape: fall back)."""
        d = self.c.dialect
        parts = []
        for column in self.spec.ordering:
            kind = self.table.c[column].type
            value = d.as_text(f"{x}.{column}")
            if isinstance(kind, Integer):
                parts.append(value)
            else:
                parts.append(f"'\"' || {value} || '\"'")
                if not isinstance(kind, Date):
                    self.check_plain(column)
        head = d.literal(f'["c1","{self.spec.ordering_name}",[')
        values = " || ',' || ".join(parts)
        return d.b64url(f"{head} || {values} || ']]'")

    def check_plain(self, column: str) -> None:
        """Fall back when a page's ``column`` holds text JSON would escape (once per column,
        however many cursors the selection asks for)."""
        if column in self.checked:
            return
        self.checked.add(column)
        y = self.c.name("x")
        self.c.checks.append(
            f"EXISTS (SELECT 1 FROM {self.name} {y} WHERE {y}.cg_rn <= :{self.first} "
            f"AND NOT {self.c.dialect.plain_ascii(f'{y}.{column}')})"
        )


def _overdue_only(given: Any) -> bool | None:
    """The filter's ``overdue`` when it sets nothing else (``None``: no filter, or unset)."""
    if given is None:
        return None
    others = {k: v for k, v in dict(given).items() if k != "overdue" and v is not None}
    if others:
        raise Fallback("a filter the planner does not compile")
    value = dict(given).get("overdue")
    return None if value is None else bool(value)


def _key_part(request: str, index: int, dialect: Dialect) -> Callable[[Binding], Any]:
    def bind(b: Binding) -> Any:
        key = b.pages[request][1]
        if key is None:
            return None
        value = key[index]
        return value.isoformat() if isinstance(value, date) and not dialect.postgres else value

    return bind
