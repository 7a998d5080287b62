"""Schema governance: a change that can break a client ships only with its changelog row.

``schema/released.graphql`` is the SDL clients were last promised (a release copies
``schema/schema.graphql`` over it). Every breaking change graphql-core's finder sees between it
and the served schema must have a row in ``docs/schema-changelog.md`` naming the change in the
finder's words, and a removal (of a field, an argument, an enum value) must have been
``@deprecated(reason:)`` in the released schema first: that deprecation is the period in which
clients move. ``clientgraph schema check`` prints what is missing; a test runs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from graphql import (
    BreakingChange,
    BreakingChangeType,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
)

from schema.export import DEFAULT_PATH, sdl

ROOT = DEFAULT_PATH.parent.parent
RELEASED_PATH = DEFAULT_PATH.parent / "released.graphql"
CHANGELOG_PATH = ROOT / "docs" / "schema-changelog.md"
REMOVALS = frozenset({BreakingChangeType.FIELD_REMOVED, BreakingChangeType.VALUE_REMOVED_FROM_ENUM})
ROW = re.compile(r"^\|\s*`?([^|`]+?)`?\s*\|")


@dataclass(frozen=True)
class Report:
    breaking: list[str]  # every breaking change, in the finder's words
    dangerous: list[str]  # changes that may surprise a client (a new enum value…)
    problems: list[str]  # what keeps the check from passing

    @property
    def ok(self) -> bool:
        return not self.problems


def check(
    released: Path = RELEASED_PATH, changelog: Path = CHANGELOG_PATH, served: str | None = None
) -> Report:
    """The served schema against the released one, and the changelog's rows."""
    old = _schema(released.read_text(encoding="utf-8"))
    new = _schema(served if served is not None else sdl())
    recorded = recorded_changes(changelog.read_text(encoding="utf-8"))
    breaking = find_breaking_changes(old, new)
    problems = [f"not in {changelog.name}: {c.description}" for c in breaking
                if c.description not in recorded]
    problems += [f"removed without a deprecation period: {c.description}" for c in breaking
                 if c.type in REMOVALS and not _was_deprecated(old, c)]
    return Report(
        breaking=[c.description for c in breaking],
        dangerous=[c.description for c in find_dangerous_changes(old, new)],
        problems=problems,
    )


def recorded_changes(changelog: str) -> set[str]:
    """The first cell of each table row: a change as the finder words it."""
    return {m.group(1).strip() for line in changelog.splitlines() if (m := ROW.match(line))}


def _schema(text: str) -> GraphQLSchema:
    """A schema from our SDL (federation's directives declared, since it names them)."""
    preamble = (
        "directive @link(url: String!, import: [String!]) repeatable on SCHEMA\n"
        "directive @key(fields: String!, resolvable: Boolean = true)"
        " repeatable on OBJECT | INTERFACE\n"
    )
    body = re.sub(r"^schema @link\([^)]*\)\s*\{[^}]*\}\s*", "", text, flags=re.S)
    return build_schema(preamble + body, assume_valid_sdl=True)


def _was_deprecated(old: GraphQLSchema, change: BreakingChange) -> bool:
    """Whether the removed field or value carried ``@deprecated`` in the released schema."""
    found = re.search(r"(\w+)\.(\w+) was removed", change.description)
    if found is None:
        return False
    type_name, name = found.groups()
    owner = old.type_map.get(type_name)
    if isinstance(owner, GraphQLEnumType):
        value = owner.values.get(name)
        return value is not None and value.deprecation_reason is not None
    if isinstance(owner, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
        field = owner.fields.get(name)
        return field is not None and getattr(field, "deprecation_reason", None) is not None
    return False
