"""Differential property: for generated documents over the compilable part of the schema, the
compiled path and the per-field path answer byte for byte alike in meaning — the same JSON
(keys in the same order), errors and ``extensions`` — for every role, on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from resolvers.ids import to_global_id
from tests.access.compiled import TwoPaths
from tests.access.selections import documents
from tests.access.world import ROLES, World

TABLES = (
    ("Account", "account"),
    ("Project", "project"),
    ("Invoice", "invoice"),
    # the items of nested lists, as their ``after`` (tests/access/selections.py)
    ("Contact", "contact"),
    ("Opportunity", "opportunity"),
    ("Engagement", "engagement"),
    ("Milestone", "milestone"),
    ("Payment", "payment"),
)


async def sample_ids(world: World) -> dict[str, list[str]]:
    """A few ids per type: inside the partner's accounts and outside, and some that fail."""
    out: dict[str, list[str]] = {}
    async with world.engine.connect() as conn:
        for type_name, table in TABLES:
            keys = [r[0] for r in await conn.execute(text(f"SELECT id FROM {table} ORDER BY id"))]
            out[type_name] = [to_global_id(type_name, k) for k in keys[:: max(1, len(keys) // 4)]]
    out["junk"] = ["nonsense", to_global_id("Account", 10**9), to_global_id("Milestone", 1)]
    return out


def differential(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


async def _alike(paths: TwoPaths, ids: dict[str, list[str]], data: st.DataObject) -> None:
    query, variables = data.draw(documents(ids))
    for role in ROLES:
        per_field, compiled = await paths.both(role, query, variables)
        assert (compiled.status, _settled(compiled.body)) == (
            per_field.status,
            _settled(per_field.body),
        ), (role.value, query, variables)


def _settled(body: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The body with its errors as the set of their messages and codes: the per-field path
    lists them as its resolvers fail, which varies from run to run when several fail (two
    NOT_FOUND roots), and when an item of a list fails graphql-core cancels the others, so
    which items' errors (paths) are reported depends on timing too (the same ``after`` on
    every item of a list). For the same reason, with ``data`` null altogether,
    ``extensions.masked`` holds whichever guarded fields ran before the rest was cancelled:
    it is left out then (there is no data for it to describe)."""
    nothing = ("data", None) in body
    return [
        (
            k,
            _error_set(v)
            if k == "errors"
            else _unmasked(v)
            if nothing and k == "extensions"
            else v,
        )
        for k, v in body
    ]


def _unmasked(extensions: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in extensions if k != "masked"]


def _error_set(errors: list[list[tuple[str, Any]]]) -> list[str]:
    seen = {repr([(k, v) for k, v in error if k in ("message", "extensions")]) for error in errors}
    return sorted(seen)


@settings(differential(12))
@given(data=st.data())
async def test_generated_documents_answer_alike(
    paths: TwoPaths, world: World, data: st.DataObject
) -> None:
    await _alike(paths, await sample_ids(world), data)


@pytest.mark.slow
@settings(differential(60))  # 150 took 128 s of make test; 60 take ~50 s
@given(data=st.data())
async def test_many_generated_documents_answer_alike(
    paths: TwoPaths, world: World, data: st.DataObject
) -> None:
    await _alike(paths, await sample_ids(world), data)
