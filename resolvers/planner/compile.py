"""A validated query operation → one SQL statement that builds its ``data`` as JSON text.

See README.md in this package. Anything not in ``catalog`` raises ``Fallback``: the caller
then runs the operation on the per-field path, so an unknown field is slow, never wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_abstract_type,
)
from sqlalchemy import Table
from sqlalchemy.sql import util as sql_util

from clientgraph.access.policy import FIELD_ROLES
from readmodel import tables
from readmodel.reads.scope import RowScope
from resolvers.planner import catalog
from resolvers.planner.binding import Binding, Fallback
from resolvers.planner.dialect import At, Dialect, Json, Number, Quoted
from resolvers.planner.page import Page
from resolvers.planner.readiness import readiness_sql
from resolvers.planner.selections import fixed, selection_sets
from resolvers.response_cache import OLDEST_SUCCESS

Binder = Callable[[Binding, dict[str, Any]], None]
Source = tuple[At | None, Callable[[str], str]]
"""Where the objects at a place of the response come from: the place of their parent object
(``None``: the root's), and how to say that one of them exists for which a condition holds."""
MODELS = (
    tables.Account,
    tables.Contact,
    tables.Opportunity,
    tables.Engagement,
    tables.Project,
    tables.Milestone,
    tables.Invoice,
    tables.Payment,
)
TABLES: dict[str, Table] = {tables.table_of(m).name: tables.table_of(m) for m in MODELS}


OUTLOOK_COLUMNS = {"asOf": "as_of", "trendDaysLeft": "trend_days_left"}
OUTLOOK_RATIOS = {
    "lowToBudget": "low_to_budget_x10000",
    "highToBudget": "high_to_budget_x10000",
    "marginAtCompletion": "margin_at_completion_x10000",
}
OUTLOOK_MONEY = {
    "teamEac": "team_eac_minor",
    "trendEac": "trend_eac_minor",
    "dailyBurn": "daily_burn_minor",
    "eacLow": "eac_low_minor",
    "eacHigh": "eac_high_minor",
    "overrunLow": "overrun_low_minor",
    "overrunHigh": "overrun_high_minor",
    "revenueAtCompletion": "revenue_at_completion_minor",
}
"""``ProjectOutlook``'s fields: the ``project_outlook`` columns they print."""


@dataclass
class Plan:
    """The statement (``data`` JSON text, ``fallback`` 0/1; with guarded fields masked for
    the caller, a ``masked`` column too: one character per parent of theirs in the response,
    ``1`` when the data holds an object there) and how to bind its parameters."""

    sql: str
    binders: list[Binder]
    masked: tuple[tuple[str, int], ...] = ()  # a masked field's path, its parent's flag
    shapes: tuple[str, ...] = ()  # the parameters written in as constants per shape (shapes.py)


@dataclass
class _Compiler:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    dialect: Dialect
    scope: RowScope
    allowed: Callable[[str], bool]
    may_see: Callable[[tuple[str, str]], bool]
    node_types: dict[str, str] = field(default_factory=dict)  # root node fields' (nodes.py)
    binders: list[Binder] = field(default_factory=list)
    shapes: list[str] = field(default_factory=list)  # parameters of the pages' shape
    ctes: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    counter: int = 0
    today: str | None = None
    stored_rows: set[str] = field(default_factory=set)  # aliases whose objects read figures
    figures: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    """An object's alias → the stored figures tables it reads → (their alias, key column):
    joined once to its row (``joined``), whatever the number of figures read."""
    masked: dict[str, At] = field(default_factory=dict)  # a masked field's path → its parent's
    sources: dict[At, Source] = field(default_factory=dict)  # objects' places → their rows

    # --- names, parameters, row rules ------------------------------------------------------

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def param(self, binder: Callable[[Binding], Any], *, shape: bool = False) -> str:
        """A bound parameter's name; ``shape``: a page's size or after-or-not, written into
        the statement as a constant per request shape (shapes.py)."""
        name = self.name("p")
        self.binders.append(lambda b, out: out.__setitem__(name, binder(b)))
        if shape:
            self.shapes.append(name)
        return name

    def table(self, name: str) -> Table:
        return TABLES[name]

    def today_sql(self) -> str:
        if self.today is None:
            postgres = self.dialect.postgres
            self.today = self.param(lambda b: b.today if postgres else b.today.isoformat())
        return self.dialect.date_param(self.today)

    def rows(self, table_name: str, alias: str) -> list[str]:
        """Live rows within the caller's scope, as ``resolvers.dataloaders`` reads them."""
        table = TABLES[table_name]
        aliased = table.alias(alias)
        adapter = sql_util.ClauseAdapter(aliased)
        out = [f"{alias}.deleted_at IS NULL"]
        for condition in self.scope.conditions(table):
            adapted = adapter.traverse(condition)
            compiled = adapted.compile(
                dialect=self.dialect.sa_dialect, compile_kwargs={"literal_binds": True}
            )
            # its literals' colons escaped, as dialect._quote does: an owner named "Ops:p7"
            # was a bind parameter to text() (and so to the shapes written in: shapes.py)
            out.append(f"({compiled})".replace(":", "\\:"))
        return out

    # --- selections -------------------------------------------------------------------------

    def collect(
        self, sets: Iterable[SelectionSetNode], owner: GraphQLObjectType
    ) -> dict[str, list[FieldNode]]:
        """Fields by response key, in document order, fragments merged (no directives)."""
        found: dict[str, list[FieldNode]] = {}
        for selection_set in sets:
            self._collect(selection_set, owner, found)
        return found

    def applies(self, condition: str, owner: GraphQLObjectType) -> bool:
        """Whether a fragment on ``condition`` applies to an object of ``owner``, as
        graphql-core decides it: the type itself, or an interface or union it belongs to."""
        if condition == owner.name:
            return True
        abstract = self.schema.get_type(condition)
        return is_abstract_type(abstract) and self.schema.is_sub_type(abstract, owner)

    def _collect(
        self,
        selection_set: SelectionSetNode,
        owner: GraphQLObjectType,
        found: dict[str, list[FieldNode]],
    ) -> None:
        for selection in selection_set.selections:
            if selection.directives:
                raise Fallback("a directive")
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                found.setdefault(key, []).append(selection)
                continue
            if isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                if fragment.directives:
                    raise Fallback("a directive")
                condition, inner = fragment.type_condition.name.value, fragment.selection_set
            elif isinstance(selection, InlineFragmentNode):
                tc = selection.type_condition
                condition = owner.name if tc is None else tc.name.value
                inner = selection.selection_set
            else:  # pragma: no cover - graphql has no other selection
                raise Fallback("an unknown selection")
            if self.applies(condition, owner):
                self._collect(inner, owner, found)

    def object_type(self, parent: GraphQLObjectType, name: str) -> tuple[GraphQLField, Any]:
        definition = parent.fields.get(name)
        if definition is None:
            raise Fallback(f"{parent.name}.{name}")
        named = get_named_type(definition.type)
        return definition, named

    def arguments(self, definition: GraphQLField, known: set[str]) -> None:
        """Fall back unless the field's declared arguments (so the given ones too) are all
        ``known``: an argument added to the schema later is never silently ignored."""
        if set(definition.args) - known:
            raise Fallback("an argument the planner does not know")

    # --- objects of the catalog -----------------------------------------------------------

    def obj(self, type_name: str, nodes: list[FieldNode], alias: str, at: At) -> str:
        """The object of ``alias``'s row; ``at``: its place in the response (response keys,
        and whether each is a list), for the paths of the guarded fields it masks."""
        gql = self.schema.get_type(type_name)
        assert isinstance(gql, GraphQLObjectType)
        entity = catalog.ENTITIES.get(type_name)
        if entity is None:
            raise Fallback(type_name)
        pairs: list[tuple[str, str]] = []
        stored = False
        for key, fields in self.collect(selection_sets(nodes), gql).items():
            name = fields[0].name.value
            if name == "__typename":
                pairs.append((key, self.dialect.literal(type_name)))
                continue
            guarded = (type_name, name) in FIELD_ROLES
            if guarded and not self.may_see((type_name, name)):
                pairs.append((key, self.mask(gql, name, key, at)))
                continue
            spec = entity.fields.get(name)
            if spec is None:
                raise Fallback(f"{type_name}.{name}")
            stored = stored or isinstance(spec, catalog.Stored | catalog.Outlook)
            definition, _ = self.object_type(gql, name)
            pairs.append((key, self.value(type_name, spec, definition, fields, alias, at, key)))
        if stored:
            self.stored_rows.add(alias)
        return self.dialect.obj(pairs)

    def mask(self, gql: GraphQLObjectType, name: str, key: str, at: At) -> str:
        """A guarded field the caller's role may not see: null, as ``schema.access.Masked``
        resolves it (before its resolver, so nothing under it is read), and its path noted
        for ``extensions.masked`` when the statement finds an object at ``at`` (the per-field
        path notes it when the field resolves on at least one object)."""
        definition = gql.fields.get(name)
        if definition is None or definition.args:  # its arguments would be coerced first
            raise Fallback(f"{gql.name}.{name} with arguments")
        assert at, "a guarded field belongs to an object under the root"
        self.masked[".".join([k for k, _ in at] + [key])] = at
        return Json("NULL")

    def source(self, at: At, rows: str, *, top: bool = False) -> None:
        """Note where the objects at ``at`` come from: ``rows`` (``FROM … WHERE …``: the row
        source of their subquery, without the figures' guard, which fails the statement
        anyway), under the object at ``at[:-1]`` (``top``: under the root or a connection,
        which are always there)."""
        parent = None if top or len(at) == 1 else at[:-1]
        self.sources[at] = (parent, lambda inner: f"EXISTS (SELECT 1 {rows} AND {inner})")

    def exists(self, at: At) -> str:
        """SQL: the data holds an object at ``at`` (through every item of its lists): the row
        sources of its place and its ancestors', nested, with the same rules, filters, cursors
        and limits as the subqueries that build the data."""
        condition = "1 = 1"
        place: At | None = at
        while place is not None:
            found = self.sources.get(place)
            if found is None:  # pragma: no cover - every object's caller notes its rows
                raise Fallback(f"no row source noted for {place}")
            place, wrap = found
            condition = wrap(condition)
        return condition

    def current(self, alias: str) -> list[str]:
        """The condition a row source adds when its object reads stored figures: the row's
        account has them current, else the statement fails and the per-field path answers (a
        change not refreshed yet). In the WHERE clause, not around the object: SQLite's parser
        has a fixed depth."""
        if alias not in self.stored_rows:
            return []
        g = self.name("g")
        fresh = (
            f"EXISTS (SELECT 1 FROM account_figures {g} WHERE {g}.account_id = {alias}.account_id)"
        )
        return [self.dialect.unless_fails(fresh, f"{alias}.id")]

    def value(
        self,
        owner: str,
        spec: catalog.Field,
        definition: GraphQLField,
        nodes: list[FieldNode],
        alias: str,
        at: At,
        response_key: str,
    ) -> str:
        d = self.dialect
        known = spec.arguments if isinstance(spec, catalog.Many) else set()
        self.arguments(definition, known)
        match spec:
            case catalog.Column(column):
                return f"{alias}.{column}"
            case catalog.UtcTime(column):
                return d.utc_time(f"{alias}.{column}")
            case catalog.Flag(column):
                return d.boolean(f"{alias}.{column}")
            case catalog.EnumName(column, enum):
                whens = " ".join(
                    f"WHEN {d.literal(str(v))} THEN {d.literal(n)}"
                    for v, n in catalog.enum_values(enum)
                )
                # a value the enum lacks: the statement fails (invalid JSON), so the
                # per-field path answers (with its error), never a null in its place
                broken = d.as_text(d.invalid_json(f"{alias}.{column}"))
                return Quoted(f"(CASE {alias}.{column} {whens} ELSE {broken} END)")
            case catalog.GlobalId(type_name):
                return d.b64url(f"{d.literal(type_name + ':')} || {d.as_text(alias + '.id')}")
            case catalog.MoneyOf(minor, currency):
                return self.money(nodes, f"{alias}.{minor}", f"{alias}.{currency}")
            case catalog.Hundredths(column):
                return d.decimal2(f"{alias}.{column}")
            case catalog.Derived(name):
                return self.derived(name, alias)
            case catalog.ToOne(type_name, column):
                return self.to_one(type_name, column, nodes, alias, (*at, (response_key, False)))
            case catalog.Many():
                return self.many(spec, definition, nodes, alias, (*at, (response_key, True)))
            case catalog.Stored() | catalog.Health() | catalog.Outlook():
                return self.figure(spec, nodes, alias)
            case catalog.Readiness():
                return readiness_sql(self, nodes, alias)
        raise Fallback(f"{owner}: {spec!r}")  # pragma: no cover

    def money(self, nodes: list[FieldNode], minor: str, currency: str) -> str:
        gql = self.schema.get_type("Money")
        assert isinstance(gql, GraphQLObjectType)
        pairs: list[tuple[str, str]] = []
        for key, fields in self.collect(selection_sets(nodes), gql).items():
            name = fields[0].name.value
            values = {
                "__typename": self.dialect.literal("Money"),
                "amount": self.dialect.decimal2(minor),
                "currency": currency,
            }
            if name not in values:
                raise Fallback(f"Money.{name}")
            pairs.append((key, values[name]))
        return self.dialect.obj(pairs)

    def figure(
        self,
        spec: catalog.Stored | catalog.Health | catalog.Outlook,
        nodes: list[FieldNode],
        alias: str,
    ) -> str:
        """A value ``readmodel/figures/stored.py`` keeps: a figure, health or an outlook."""
        if isinstance(spec, catalog.Health):
            return self.health(nodes, alias)
        if isinstance(spec, catalog.Outlook):
            return self.outlook(nodes, alias)
        return self.stored(spec.table, spec.key, spec.column, spec.kind, nodes, alias)

    def stored(
        self, table: str, key: str, column: str, kind: str, nodes: list[FieldNode], alias: str
    ) -> str:
        """A figure of ``readmodel/figures/stored.py`` (its object checks it is current), from
        the figures row joined to the object's row (null without one)."""
        d = self.dialect
        tables = self.figures.setdefault(alias, {})
        f, _ = tables.setdefault(table, (self.name("f"), key))
        if kind == "money":
            value: str = self.money(nodes, f"{f}.{column}", f"{f}.currency")
        elif kind == "hundredths":
            value = d.decimal2(f"{f}.{column}")
        else:
            value = d.ten_thousandths(f"{f}.{column}")
        found = f"(CASE WHEN {f}.{key} IS NULL THEN NULL ELSE {value} END)"
        if kind == "money":
            return d.nested(found)
        return Quoted(found) if kind == "hundredths" else Number(found)

    def joined(self, alias: str) -> str:
        """The stored figures rows ``alias``'s object reads, joined to its row (by key: one
        row at most), for the ``FROM`` that makes the object."""
        return "".join(
            f" LEFT JOIN {table} {f} ON {f}.{key} = {alias}.id"
            for table, (f, key) in self.figures.get(alias, {}).items()
        )

    def health(self, nodes: list[FieldNode], alias: str) -> str:
        """``Account.health`` as stored for the request's today; otherwise (not refreshed
        today, or the account changed since) the statement fails and the per-field path
        computes it."""
        d = self.dialect
        gql = self.schema.get_type("AccountHealth")
        assert isinstance(gql, GraphQLObjectType)
        h = self.name("h")
        pairs: list[tuple[str, str]] = []
        for key, fields in self.collect(selection_sets(nodes), gql).items():
            name = fields[0].name.value
            if name == "__typename":
                pairs.append((key, d.literal("AccountHealth")))
            elif name == "score":
                pairs.append((key, Number(f"{h}.score")))
            elif name == "status":
                pairs.append((key, self.enum_of("HealthStatus", f"{h}.status")))
            elif name == "asOf":
                pairs.append((key, d.utc_time(OLDEST_SUCCESS)))
            elif name == "factors":
                pairs.append((key, self.factors(fields, h)))
            else:
                raise Fallback(f"AccountHealth.{name}")
        today = self.today_sql()
        found = (
            f"(SELECT {d.obj(pairs)} FROM account_figures {h} WHERE {h}.account_id = {alias}.id "
            f"AND {h}.as_of = {today} AND {h}.score IS NOT NULL)"
        )
        failed = d.invalid_json(d.as_text(f"{alias}.id"))
        return d.nested(f"coalesce({found}, {failed})")

    def factors(self, nodes: list[FieldNode], h: str) -> str:
        columns = ("name", "value", "weight", "penalty", "explanation")
        return self.positioned("HealthFactor", columns, nodes, "account_health_factor",
                               f"account_id = {h}.account_id")  # fmt: skip

    def positioned(
        self, type_name: str, columns: tuple[str, ...], nodes: list[FieldNode], table: str,
        parent: str,
    ) -> str:  # fmt: skip
        """A stored list of ``type_name`` objects (their fields plain ``columns`` of ``table``)
        in ``position`` order, for the parent row ``parent`` names (``<column> = <value>``)."""
        d = self.dialect
        gql = self.schema.get_type(type_name)
        assert isinstance(gql, GraphQLObjectType)
        x, rows = self.name("x"), self.name("s")
        pairs: list[tuple[str, str]] = []
        for key, fields in self.collect(selection_sets(nodes), gql).items():
            name = fields[0].name.value
            if name == "__typename":
                pairs.append((key, d.literal(type_name)))
            elif name in columns:
                pairs.append((key, f"{x}.{name}"))
            else:
                raise Fallback(f"{type_name}.{name}")
        select = (
            f"SELECT {d.obj(pairs)} AS j, {x}.position AS o0 FROM {table} {x} "
            f"WHERE {x}.{parent} ORDER BY {x}.position"
        )
        return d.nested(d.array(select, rows, f"{rows}.o0"))

    def outlook(self, nodes: list[FieldNode], alias: str) -> str:
        """``Project.outlook`` as stored for the request's today and trend window; otherwise
        (not refreshed today, another window, no row) the statement fails and the per-field
        path computes it. Its guarded fields compile only for the roles that see them."""
        d = self.dialect
        gql = self.schema.get_type("ProjectOutlook")
        assert isinstance(gql, GraphQLObjectType)
        o = self.name("o")
        pairs: list[tuple[str, str]] = []
        for key, fields in self.collect(selection_sets(nodes), gql).items():
            name = fields[0].name.value
            guarded = ("ProjectOutlook", name)
            if guarded in FIELD_ROLES and not self.may_see(guarded):
                raise Fallback(f"ProjectOutlook.{name}")  # masks are the per-field path's
            if name == "__typename":
                pairs.append((key, d.literal("ProjectOutlook")))
            elif name in OUTLOOK_COLUMNS:
                pairs.append((key, f"{o}.{OUTLOOK_COLUMNS[name]}"))
            elif name == "status":
                pairs.append((key, self.enum_of("OutlookStatus", f"{o}.status")))
            elif name in OUTLOOK_RATIOS:
                pairs.append((key, d.ten_thousandths(f"{o}.{OUTLOOK_RATIOS[name]}")))
            elif name in OUTLOOK_MONEY:
                column = f"{o}.{OUTLOOK_MONEY[name]}"
                money = self.money(fields, column, f"{o}.currency")
                pairs.append(
                    (key, d.nested(f"(CASE WHEN {column} IS NULL THEN NULL ELSE {money} END)"))
                )
            elif name == "factors":
                pairs.append((key, self.outlook_factors(fields, o)))
            else:
                raise Fallback(f"ProjectOutlook.{name}")
        today = self.today_sql()
        window = self.param(lambda b: b.outlook_window)
        found = (
            f"(SELECT {d.obj(pairs)} FROM project_outlook {o} WHERE {o}.project_id = {alias}.id "
            f"AND {o}.as_of = {today} AND {o}.window_days = :{window})"
        )
        failed = d.invalid_json(d.as_text(f"{alias}.id"))
        return d.nested(f"coalesce({found}, {failed})")

    def outlook_factors(self, nodes: list[FieldNode], o: str) -> str:
        columns = ("name", "value", "explanation")
        return self.positioned("OutlookFactor", columns, nodes, "project_outlook_factor",
                               f"project_id = {o}.project_id")  # fmt: skip

    def enum_of(self, type_name: str, column: str) -> str:
        """A stored value shown as the name of the schema's enum ``type_name`` (a value it
        lacks fails the statement, as ``EnumName``)."""
        d = self.dialect
        gql = self.schema.get_type(type_name)
        assert isinstance(gql, GraphQLEnumType)
        whens = " ".join(
            f"WHEN {d.literal(str(getattr(v.value, 'value', v.value)))} THEN {d.literal(n)}"
            for n, v in gql.values.items()
        )
        return Quoted(f"(CASE {column} {whens} ELSE {d.as_text(d.invalid_json(column))} END)")

    def derived(self, name: str, alias: str) -> str:
        d = self.dialect
        if name == "contact_name":
            return f"({alias}.first_name || ' ' || {alias}.last_name)"
        today = self.today_sql()
        if name == "is_slipped":
            return d.boolean(f"{alias}.status = 'planned' AND {alias}.due_date < {today}")
        if name == "days_overdue":
            open_ = ", ".join(d.literal(s) for s in catalog.OPEN_INVOICE)
            return Number(
                f"(CASE WHEN {alias}.status IN ({open_}) AND {alias}.balance_minor > 0 "
                f"AND {alias}.due_date < {today} "
                f"THEN {d.days_between(today, alias + '.due_date')} ELSE 0 END)"
            )
        raise Fallback(name)  # pragma: no cover

    def to_one(
        self, type_name: str, column: str, nodes: list[FieldNode], alias: str, at: At
    ) -> str:
        entity = catalog.ENTITIES[type_name]
        inner = self.name("t")
        body = self.obj(type_name, nodes, inner, at)
        scoped = [f"{inner}.id = {alias}.{column}", *self.rows(entity.table, inner)]
        self.source(at, f"FROM {entity.table} {inner} WHERE {' AND '.join(scoped)}")
        where = " AND ".join([*scoped, *self.current(inner)])
        rows = f"{entity.table} {inner}{self.joined(inner)}"
        return self.dialect.nested(f"(SELECT {body} FROM {rows} WHERE {where})")

    def many(
        self,
        spec: catalog.Many,
        definition: GraphQLField,
        nodes: list[FieldNode],
        alias: str,
        at: At,
    ) -> str:
        entity = catalog.ENTITIES[spec.type_name]
        inner, rows = self.name("t"), self.name("s")
        node = nodes[0]
        first = self.param(lambda b: b.nested_first(definition, node), shape=fixed(node, "first"))
        where = [f"{inner}.{spec.parent} = {alias}.id", *self.rows(entity.table, inner)]
        for argument, (column, how) in spec.filters.items():
            where.append(self.filter(definition, node, argument, f"{inner}.{column}", how))
        after = self.after(spec, definition, node, alias) if _names(node, "after") else None
        if after is not None:
            where.append(after.keyset(inner))
        order = ", ".join(f"{inner}.{c}" for c in spec.order_by)
        keys = ", ".join(f"{inner}.{c} AS o{i}" for i, c in enumerate(spec.order_by))
        body = self.obj(spec.type_name, nodes, inner, at)
        limited = (
            f"SELECT {inner}.* FROM {entity.table} {inner} WHERE {' AND '.join(where)} "
            f"ORDER BY {order} LIMIT :{first}"
        )
        self.source(at, f"FROM ({limited}) {inner} WHERE 1 = 1")
        where += self.current(inner)
        select = (
            f"SELECT {body} AS j, {keys} FROM {entity.table} {inner}{self.joined(inner)} "
            f"WHERE {' AND '.join(where)} ORDER BY {order} LIMIT :{first}"
        )
        ordered = ", ".join(f"{rows}.o{i}" for i in range(len(spec.order_by)))
        array = self.dialect.array(select, rows, ordered)
        if after is not None:  # a cursor outside this parent's list: the per-field path's error
            broken = self.dialect.invalid_json(self.dialect.as_text(f"{alias}.id"))
            array = f"(CASE WHEN {after.foreign()} THEN {broken} ELSE {array} END)"
        return self.dialect.nested(array)

    def after(
        self, spec: catalog.Many, definition: GraphQLField, node: FieldNode, alias: str
    ) -> After:
        """A nested list's ``after``: the child it names, within this parent's list."""
        table = catalog.ENTITIES[spec.type_name].table
        key = self.param(lambda b: b.nested_after(definition, node, spec.type_name))
        cursor = self.name("c")
        where = [f"{cursor}.id = :{key}", f"{cursor}.{spec.parent} = {alias}.id"]
        where += self.rows(table, cursor)
        found = f"FROM {table} {cursor} WHERE {' AND '.join(where)}"
        return After(self.dialect.bigint_param(key), spec.order_by, cursor, found)

    def filter(
        self, definition: GraphQLField, node: FieldNode, argument: str, column: str, how: str
    ) -> str:
        d = self.dialect
        if how == "open":  # openOnly: true keeps deals not closed
            flag = self.param(lambda b: bool(b.argument(definition, node, argument)))
            return f"(NOT {d.cond_param(flag)} OR NOT {column})"
        # a list of enum values; null: every row; [] : none
        every = self.param(lambda b: b.argument(definition, node, argument) is None)
        size = _enum_size(definition, argument)
        names = [self.param(_nth_value(definition, node, argument, i)) for i in range(size)]
        listed = ", ".join(f":{n}" for n in names)
        return f"({d.cond_param(every)} OR {column} IN ({listed}))"

    # --- the root ---------------------------------------------------------------------------

    def root(self, operation: OperationDefinitionNode) -> str:
        query = self.schema.query_type
        assert query is not None
        pairs: list[tuple[str, str]] = []
        for key, nodes in self.collect([operation.selection_set], query).items():
            name = nodes[0].name.value
            if name == "__typename":
                pairs.append((key, self.dialect.literal("Query")))
                continue
            spec = catalog.ROOTS.get(name)
            if name == "node":  # the record root of the type its id names (nodes.py)
                spec = catalog.NODES.get(self.node_types.get(key, ""))
            if spec is None or not self.allowed(name):
                raise Fallback(f"Query.{name}")
            definition, named = self.object_type(query, name)
            if spec.paged:
                pairs.append((key, self.connection(spec, definition, named, nodes, key)))
            else:
                pairs.append((key, self.record(spec, definition, nodes, key)))
        if all(v.startswith("'") for _, v in pairs):  # __typename alone: no SQL is needed
            raise Fallback("nothing to read")
        return self.dialect.obj(pairs)

    def record(
        self, spec: catalog.Root, definition: GraphQLField, nodes: list[FieldNode], root_key: str
    ) -> str:
        self.arguments(definition, {"id"})
        entity = catalog.ENTITIES[spec.type_name]
        node = nodes[0]
        key = self.param(lambda b: b.record_key(definition, node, spec.type_name))
        inner, probe = self.name("t"), self.name("t")
        found = " AND ".join([f"{probe}.id = :{key}", *self.rows(entity.table, probe)])
        self.checks.append(f"NOT EXISTS (SELECT 1 FROM {entity.table} {probe} WHERE {found})")
        at = ((root_key, False),)
        body = self.obj(spec.type_name, nodes, inner, at)  # NOT_FOUND is the per-field path's
        scoped = [f"{inner}.id = :{key}", *self.rows(entity.table, inner)]
        self.source(at, f"FROM {entity.table} {inner} WHERE {' AND '.join(scoped)}")
        where = " AND ".join([*scoped, *self.current(inner)])
        rows = f"{entity.table} {inner}{self.joined(inner)}"
        return self.dialect.nested(f"(SELECT {body} FROM {rows} WHERE {where})")

    def connection(
        self,
        spec: catalog.Root,
        definition: GraphQLField,
        named: Any,
        nodes: list[FieldNode],
        root_key: str,
    ) -> str:
        compiled = {"first", "after", "filter"} if spec.overdue_filter else {"first", "after"}
        for node in nodes:  # another filter or an ordering: the per-field path
            if {a.name.value for a in node.arguments or ()} - compiled:
                raise Fallback("a root filter or ordering")
        self.arguments(definition, {"first", "after", "filter", "orderBy"})
        page = Page(self, spec, definition, nodes[0])
        pairs: list[tuple[str, str]] = []
        for key, fields in self.collect(selection_sets(nodes), named).items():
            name = fields[0].name.value
            if name == "__typename":
                pairs.append((key, self.dialect.literal(named.name)))
            elif name == "totalCount":
                pairs.append((key, page.total()))
            elif name == "pageInfo":
                pairs.append((key, page.info(fields)))
            elif name in ("edges", "nodes"):
                items = ((root_key, False), (key, True))
                pairs.append((key, page.items(fields, items, edges=name == "edges")))
            else:
                raise Fallback(f"{named.name}.{name}")
        return self.dialect.obj(pairs)


@dataclass(frozen=True)
class After:
    """The SQL of a nested list's ``after`` (the key is a bound parameter, null when absent):
    the keyset on the list's order (which ends with the id, so it is exact), and the test that
    the cursor names no child of this parent the caller may see."""

    key: str
    order_by: tuple[str, ...]
    cursor: str
    found: str  # FROM … WHERE: the cursor row, live, in scope, of this parent

    def keyset(self, inner: str) -> str:
        mine = ", ".join(f"{inner}.{c}" for c in self.order_by)
        its = ", ".join(f"{self.cursor}.{c}" for c in self.order_by)
        return f"({self.key} IS NULL OR ({mine}) > (SELECT {its} {self.found}))"

    def foreign(self) -> str:
        return f"{self.key} IS NOT NULL AND NOT EXISTS (SELECT 1 {self.found})"


def _names(node: FieldNode, argument: str) -> bool:
    return any(a.name.value == argument for a in node.arguments or ())


def _enum_size(definition: GraphQLField, argument: str) -> int:
    named = get_named_type(definition.args[argument].type)
    if not isinstance(named, GraphQLEnumType):
        raise Fallback(f"{argument} is not a list of enum values")
    return len(named.values)


def _nth_value(
    definition: GraphQLField, node: FieldNode, argument: str, index: int
) -> Callable[[Binding], Any]:
    def bind(b: Binding) -> Any:
        chosen = sorted({v.value for v in b.argument(definition, node, argument) or ()})
        return chosen[index] if index < len(chosen) else None

    return bind


def compile_operation(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    dialect: Dialect,
    scope: RowScope,
    allowed: Callable[[str], bool],
    may_see: Callable[[tuple[str, str]], bool] = lambda _: False,
    node_types: Iterable[tuple[str, str]] = (),
) -> Plan:
    """The plan of ``operation`` or ``Fallback``. ``allowed``: the caller may use this root
    field; ``may_see``: the caller's role sees this guarded field (``FIELD_ROLES``);
    ``node_types``: the types of the root ``node`` fields' ids, by response key (nodes.py)."""
    if operation.operation.value != "query" or operation.directives:
        raise Fallback("not a plain query")
    compiler = _Compiler(schema, fragments, dialect, scope, allowed, may_see, dict(node_types))
    data = compiler.root(operation)
    checks = " OR ".join(compiler.checks) or "1 = 0"
    fallback = f"CASE WHEN {checks} THEN 1 ELSE 0 END AS fallback"
    if not compiler.masked:
        with_ = f"WITH {', '.join(compiler.ctes)} " if compiler.ctes else ""
        sql = f"{with_}SELECT {dialect.json_text(data)} AS data, {fallback}"
        return Plan(sql, compiler.binders, shapes=tuple(compiler.shapes))
    # guarded fields masked for the caller: which of their paths occur depends on the rows (the
    # per-field path notes one when some object holds the field), so the statement says, per
    # parent place, whether an object is there: the same row sources, as EXISTS. (Not read back
    # from the JSON built: that needs the data twice, and SQLite's parser has no depth to spare)
    parents = list(dict.fromkeys(compiler.masked.values()))  # each parent checked once
    masked = tuple((path, parents.index(at)) for path, at in compiler.masked.items())
    flags = " || ".join(f"CASE WHEN {compiler.exists(at)} THEN '1' ELSE '0' END" for at in parents)
    with_ = f"WITH {', '.join(compiler.ctes)} " if compiler.ctes else ""
    sql = f"{with_}SELECT {dialect.json_text(data)} AS data, {flags} AS masked, {fallback}"
    return Plan(sql, compiler.binders, masked, tuple(compiler.shapes))
