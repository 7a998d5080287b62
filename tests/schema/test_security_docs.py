"""docs/security.md's tables are the rule table in code, operation by operation, field by field."""

from __future__ import annotations

import re
from pathlib import Path

from clientgraph.access.policy import FIELD_ROLES, QUERY_ROLES, SUBSCRIPTION_ROLES, mutation_roles
from clientgraph.access.roles import ALL_ROLES, Role
from schema.build import build_schema

DOC = Path(__file__).parents[2] / "docs" / "security.md"
ROW = re.compile(r"^\| `([A-Za-z_.]+)` \| (.+) \|$")


def _documented() -> tuple[list[str], dict[str, frozenset[Role]]]:
    lines = DOC.read_text().splitlines()
    header = next(line for line in lines if line.startswith("| query |"))
    roles = [Role(cell.strip()) for cell in header.strip("|").split("|")[1:]]
    found: dict[str, frozenset[Role]] = {}
    for line in lines:
        match = ROW.match(line)
        if match and match.group(2).count("|") == len(roles) - 1:
            marks = [cell.strip() for cell in match.group(2).split("|")]
            found[match.group(1)] = frozenset(
                r for r, m in zip(roles, marks, strict=True) if m == "✓"
            )
    return [r.value for r in roles], found


def test_the_tables_list_every_operation_and_guarded_field_with_its_roles() -> None:
    schema = build_schema()._schema
    expected: dict[str, frozenset[Role]] = {}
    for name in schema.query_type.fields:
        expected[name] = QUERY_ROLES.get(name, ALL_ROLES)
    expected |= mutation_roles()
    assert schema.subscription_type is not None
    for name in schema.subscription_type.fields:
        expected[name] = SUBSCRIPTION_ROLES[name]
    for (type_name, field), roles in FIELD_ROLES.items():
        expected[f"{type_name}.{field}"] = roles

    columns, documented = _documented()
    assert sorted(columns) == sorted(r.value for r in Role)
    assert documented == expected
