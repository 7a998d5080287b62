"""The planner's catalog against the schema it compiles: every field it names exists with the
arguments it knows, every column it reads non-null where the field is, and no guarded field
is in it (those always take the per-field path, which masks them)."""

from __future__ import annotations

from graphql import GraphQLNonNull, GraphQLObjectType

from clientgraph.access.policy import FIELD_ROLES
from resolvers.planner import catalog
from resolvers.planner.compile import TABLES
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


def test_no_guarded_field_is_compiled() -> None:
    for type_name, entity in catalog.ENTITIES.items():
        assert not {(type_name, n) for n in entity.fields} & set(FIELD_ROLES)


def test_a_non_null_field_reads_a_non_null_column() -> None:
    for type_name, entity in catalog.ENTITIES.items():
        table, fields = TABLES[entity.table], _type(type_name).fields
        for name, spec in entity.fields.items():
            if not isinstance(fields[name].type, GraphQLNonNull):
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
