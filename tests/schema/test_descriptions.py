"""Clients read the schema's descriptions (codegen copies them into their types): every type,
field, argument and enum value of the served schema is counted.

All of them (issue 17): a new one without ``description=`` fails here, listing what is missing
(or add it to ``schema/descriptions.py``).
"""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
)

from schema.export import sdl
from schema.governance import _schema

BUILT_IN = frozenset({"String", "Int", "Float", "Boolean", "ID"})


def _undescribed_members(name: str, type_: GraphQLNamedType) -> list[str]:
    missing: list[str] = []
    if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
        for field_name, field in type_.fields.items():
            if not field.description:
                missing.append(f"{name}.{field_name}")
            for arg_name, arg in getattr(field, "args", {}).items():
                if not arg.description:
                    missing.append(f"{name}.{field_name}({arg_name})")
    if isinstance(type_, GraphQLEnumType):
        missing += [f"{name}.{v}" for v, value in type_.values.items() if not value.description]
    return missing


def census() -> tuple[int, list[str]]:
    """How many things the schema describes (types, fields, arguments, enum values), and the
    ones without a description."""
    schema = _schema(sdl())
    total, missing = 0, []
    for name, type_ in schema.type_map.items():
        if name.startswith("__") or (isinstance(type_, GraphQLScalarType) and name in BUILT_IN):
            continue
        members = _undescribed_members(name, type_)
        total += 1 + _members(type_)
        missing += ([] if type_.description else [name]) + members
    return total, missing


def _members(type_: GraphQLNamedType) -> int:
    if isinstance(type_, GraphQLEnumType):
        return len(type_.values)
    fields = getattr(type_, "fields", {})
    return len(fields) + sum(len(getattr(f, "args", {})) for f in fields.values())


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    total, missing = census()
    described = 100 * (total - len(missing)) / total
    assert total > 600  # the census sees the whole schema
    assert not missing, (
        f"{described:.0f}% described; {len(missing)} undescribed: {', '.join(missing)}"
    )
