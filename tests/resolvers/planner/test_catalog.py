"""The planner's catalog against the schema it compiles: every field it names exists with the
arguments it knows, every column it reads non-null where the field is, and a guarded field in
it compiles for every role (null for the roles it is masked for, its path reported as the
per-field path reports it)."""

from __future__ import annotations

from collections.abc import Callable

from graphql import GraphQLNonNull, GraphQLObjectType, get_named_type, get_operation_ast, parse
from sqlalchemy.dialects import postgresql, sqlite

from clientgraph.access.policy import FIELD_ROLES
from clientgraph.access.roles import Role
from readmodel.reads.scope import RowScope
from readmodel.tables import metadata
from resolvers.planner import catalog
from resolvers.planner.binding import Fallback
from resolvers.planner.compile import (
    OUTLOOK_COLUMNS,
    OUTLOOK_MONEY,
    OUTLOOK_RATIOS,
    TABLES,
    compile_operation,
)
from resolvers.planner.dialect import Dialect
from schema.build import build_schema

SCHEMA = build_schema()._schema


def _type(name: str) -> GraphQLObjectType:
    found = SCHEMA.get_type(name)
    assert isinstance(found, GraphQLObjectType), name
    return found


def test_every_catalog_field_is_in_the_schema_with_known_arguments() -> None:
    for type_name, entity in catalog.ENTITIES.items():
        fields = _type(type_name).fields
        for name, spec in entity.fields.items():
            assert name in fields, f"{type_name}.{name}"
            known = spec.arguments if isinstance(spec, catalog.Many) else set()
            assert set(fields[name].args) == known, f"{type_name}.{name}"


def test_a_guarded_field_compiles_for_every_role_masked_for_the_others() -> None:
    """A role that sees it reads its value; for another it is ``NULL`` in the statement and
    its path is one the statement reports (the per-field path's ``extensions.masked``)."""
    dialect = Dialect("sqlite", sqlite.dialect())
    guarded = [
        (t, n) for t, e in catalog.ENTITIES.items() for n in e.fields if (t, n) in FIELD_ROLES
    ]
    assert ("Project", "budgetBurn") in guarded and ("Opportunity", "readiness") in guarded
    for type_name, name in guarded:
        root = {"Project": "projects", "Opportunity": "opportunities"}[type_name]
        spec = catalog.ENTITIES[type_name].fields[name]
        inner = f"{name} {{ amount }}" if getattr(spec, "kind", "") == "money" else name
        if isinstance(spec, catalog.Outlook):
            inner = f"{name} {{ status }}"
        if isinstance(spec, catalog.Readiness):
            inner = f"{name} {{ score issues {{ field }} }}"
        document = parse(f"{{ accounts(first: 1) {{ nodes {{ {root} {{ {inner} }} }} }} }}")
        if root == "projects":
            document = parse(f"{{ {root}(first: 1) {{ nodes {{ {inner} }} }} }}")
        operation = get_operation_ast(document)
        assert operation is not None
        for role in Role:
            sees = role in FIELD_ROLES[(type_name, name)]
            plan = compile_operation(
                SCHEMA, operation, {}, dialect, RowScope(), lambda _: True, lambda _k, s=sees: s
            )
            path = f"{root}.nodes.{name}" if root == "projects" else f"accounts.nodes.{root}.{name}"
            masked = () if sees else ((path, 0),)
            assert plan.masked == masked, (type_name, name, role)
            assert (" AS masked, " in plan.sql) is not sees
            assert plan.sql.endswith(" AS fallback")  # the response cache appends after it


def test_a_guarded_field_outside_the_catalog_compiles_only_where_it_is_masked() -> None:
    """``Payment.amount``, ``Project.outlook``: the planner cannot read them, but a role they
    are masked for gets null without their resolver running, so that compiles."""
    dialect = Dialect("postgresql", postgresql.dialect())
    query = (
        "{ invoices(first: 1) { nodes { payments { amount { amount } receivedOn status } "
        "project { outlook { teamEac { amount } } } } } }"
    )
    operation = get_operation_ast(parse(query))
    assert operation is not None
    for sees in (True, False):
        try:
            plan = compile_operation(
                SCHEMA, operation, {}, dialect, RowScope(), lambda _: True, lambda _k, s=sees: s
            )
        except Fallback:
            assert sees
            continue
        assert not sees
        assert plan.masked == (
            ("invoices.nodes.payments.amount", 0),
            ("invoices.nodes.payments.receivedOn", 0),
            ("invoices.nodes.project.outlook", 1),
        )


def _compiles(document: str, sees: Callable[[tuple[str, str]], bool]) -> bool:
    operation = get_operation_ast(parse(document))
    assert operation is not None
    dialect = Dialect("sqlite", sqlite.dialect())
    try:
        compile_operation(SCHEMA, operation, {}, dialect, RowScope(), lambda _: True, sees)
    except Fallback:
        return False
    return True


def test_an_outlook_field_compiles_only_for_the_roles_that_see_it() -> None:
    """Every field of ``ProjectOutlook`` compiles (none is left to the per-field path by
    mistake) for a role that sees both ``Project.outlook`` and the field, and for a role that
    sees no outlook at all (null, masked); a subfield masked for a role that sees the outlook
    falls back."""
    outlook = _type("ProjectOutlook")
    assert ("ProjectOutlook", "teamEac") in FIELD_ROLES
    for name, definition in outlook.fields.items():
        inner = name
        named = get_named_type(definition.type)
        if isinstance(named, GraphQLObjectType):
            inner = f"{name} {{ {' '.join(named.fields)} }}"
        document = f"{{ projects(first: 1) {{ nodes {{ outlook {{ {inner} }} }} }} }}"
        for role in Role:
            sees_outlook = role in FIELD_ROLES[("Project", "outlook")]
            sees = role in FIELD_ROLES.get(("ProjectOutlook", name), frozenset(Role))
            compiled = _compiles(document, lambda k, r=role: r in FIELD_ROLES[k])
            # masked as a whole: null, compiled; a masked subfield: the per-field path's
            assert compiled == (not sees_outlook or sees), (name, role)


def test_a_non_null_outlook_field_reads_a_non_null_column() -> None:
    table, fields = metadata.tables["project_outlook"], _type("ProjectOutlook").fields
    columns = {**OUTLOOK_COLUMNS, **OUTLOOK_RATIOS, **OUTLOOK_MONEY, "status": "status"}
    assert set(columns) | {"factors"} == set(fields)
    for name, column in columns.items():
        if isinstance(fields[name].type, GraphQLNonNull):
            assert not table.c[column].nullable, name


def test_a_non_null_field_reads_a_non_null_column() -> None:
    for type_name, entity in catalog.ENTITIES.items():
        table, fields = TABLES[entity.table], _type(type_name).fields
        for name, spec in entity.fields.items():
            if not isinstance(fields[name].type, GraphQLNonNull):
                continue
            if isinstance(spec, catalog.Outlook):  # its own table: the test above
                continue
            if isinstance(spec, catalog.Stored):  # a figure: its own table's column
                assert not metadata.tables[spec.table].c[spec.column].nullable, name
                continue
            for attribute in ("column", "currency"):
                column = getattr(spec, attribute, None)
                if isinstance(column, str) and column in table.c:
                    assert not table.c[column].nullable, f"{type_name}.{name}: {column}"


def test_root_fields_are_in_the_schema() -> None:
    query = SCHEMA.query_type
    assert query is not None
    for name in catalog.ROOTS:
        assert name in query.fields
