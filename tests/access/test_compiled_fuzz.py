"""Differential property: for generated documents over the compilable part of the schema, the
compiled path and the per-field path answer byte for byte alike in meaning — the same JSON
(keys in the same order), errors and ``extensions`` (``masked`` exactly, when there are no
errors) — for every role, on both backends; and a document compiled for the admin is compiled
for every role it answers without errors (guarded fields masked for a role compile too)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY
from sqlalchemy import text

from clientgraph.access.roles import Role
from resolvers.ids import to_global_id
from tests.access.compiled import TwoPaths, book_paths, short_path_answers
from tests.access.selections import PAGES, documents, outlook_documents
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
    for page in PAGES:  # cursors of the root connections' pages, as the admin reads them
        for first in (1, 3):
            answer = await world.admin_answer(
                f"query {{ {page}(first: {first}) {{ pageInfo {{ endCursor }} }} }}"
            )
            cursor = answer["data"][page]["pageInfo"]["endCursor"]
            out.setdefault(f"cursor:{page}", []).extend([] if cursor is None else [cursor])
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


async def _alike(
    paths: TwoPaths,
    ids: dict[str, list[str]],
    data: st.DataObject,
    drawn: Any = documents,
    roles: tuple[Role, ...] = ROLES,
) -> None:
    query, variables = data.draw(drawn(ids))
    admin_compiled = False
    for role in sorted(roles, key=lambda r: r is not Role.ADMIN):  # the admin first
        before = _compiled()
        per_field, compiled = await paths.both(role, query, variables)
        assert (compiled.status, _settled(compiled.body)) == (
            per_field.status,
            _settled(per_field.body),
        ), (role.value, query, variables)
        was_compiled = _compiled() > before
        if role is Role.ADMIN:
            admin_compiled = was_compiled
        elif admin_compiled and "errors" not in dict(per_field.body) and not _limited(query):
            # the admin sees every row and field: what compiles for it compiles for a role
            # with fewer (a guarded field masked, not a fallback), unless the role's own
            # answer has an error (NOT_FOUND, a nested cursor outside its rows)
            assert was_compiled, (role.value, query, variables)


def _limited(query: str) -> bool:
    """Documents the planner may compile for the admin and not for another role (the planner
    README's list): a guarded subfield of ``outlook`` masked for the role falls back, and so
    may ``readiness`` nested deep on SQLite (its parser's depth limit)."""
    return "outlook" in query or "readiness" in query


def _compiled() -> float:
    """Answers made by one statement: the pipeline's, and the short path's of proven plans."""
    found = REGISTRY.get_sample_value(
        "clientgraph_graphql_compiled_reads_total", {"outcome": "compiled"}
    )
    return (found or 0.0) + short_path_answers()


def _settled(body: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The body as far as it is the same from run to run on the per-field path.

    Errors are compared as the set of their messages and codes (the path lists them as its
    resolvers fail). When a field fails and its null reaches up to a nullable object (or to
    ``data``), graphql-core cancels what still runs under that object: which of its errors were
    recorded, and which of its guarded fields were masked before, is timing. So errors and
    masked paths under an object the data no longer holds are left out (that there are errors
    still counts). A compiled answer never has errors: an error is the per-field path's
    answer on both sides, so nothing of the compiled path's is left unchecked by this. Without
    errors, ``masked`` is compared as it is (the compiled path computes it from its rows)."""
    data = dict(body).get("data")
    failed = "errors" in dict(body)
    out: list[tuple[str, Any]] = []
    for k, v in body:
        if k == "errors":
            out.append((k, (True, _error_set([e for e in v if _stands(data, e)]))))
        elif k == "extensions" and failed:
            out.append((k, _shown(v, data)))
        else:
            out.append((k, v))
    return out


def _stands(data: Any, error: list[tuple[str, Any]]) -> bool:
    """Whether the object the error's field belongs to is in ``data`` (not nulled above it)."""
    path = dict(error).get("path")
    if not path:
        return True  # a request error: nothing ran
    value = data
    for step in path[:-1]:
        if value is None:
            return False
        if isinstance(step, int):
            value = value[step] if step < len(value) else None
        else:
            value = dict(value).get(step)
    return value is not None


def _error_set(errors: list[list[tuple[str, Any]]]) -> list[str]:
    seen = {repr([(k, v) for k, v in error if k in ("message", "extensions")]) for error in errors}
    return sorted(seen)


def _shown(extensions: list[tuple[str, Any]], data: Any) -> list[tuple[str, Any]]:
    """``extensions`` with ``masked`` left to the paths whose parent object is in ``data``."""
    out = []
    for k, v in extensions:
        if k == "masked":
            v = [p for p in v if _holds(data, p.split(".")[:-1])]
            if not v:
                continue
        out.append((k, v))
    return out


def _holds(value: Any, path: list[str]) -> bool:
    """Whether some object at ``path`` (list items expanded) in ``ordered`` JSON is there."""
    if isinstance(value, list) and (not value or not isinstance(value[0], tuple)):
        return any(_holds(item, path) for item in value)  # a JSON array
    if value is None:
        return False
    if not path:
        return True
    found = dict(value).get(path[0])
    return found is not None and _holds(found, path[1:])


@settings(differential(12))
@given(data=st.data())
async def test_generated_documents_answer_alike(
    paths: TwoPaths, world: World, data: st.DataObject
) -> None:
    await _alike(paths, await sample_ids(world), data)


@pytest.fixture(scope="module")
async def book(world: World) -> AsyncIterator[TwoPaths]:
    async with book_paths(world) as both:
        yield both


async def test_a_book_is_compiled_narrower(book: TwoPaths, paths: TwoPaths) -> None:
    """The book's caller sees some accounts, not all, and its page compiles to one statement."""
    page = "query { accounts(first: 50) { totalCount nodes { id name } } }"

    def total(body: Any) -> int:
        return int(dict(dict(dict(body)["data"])["accounts"])["totalCount"])

    _, everyone = await paths.both(Role.ADMIN, page)
    per_field, compiled = await book.both(Role.ACCOUNT_TEAM, page)
    assert compiled.body == per_field.body and compiled.statements == 1
    assert 0 < total(compiled.body) < total(everyone.body)


@settings(differential(8))
@given(data=st.data())
async def test_generated_documents_answer_alike_for_a_book(
    book: TwoPaths, world: World, data: st.DataObject
) -> None:
    """An account team held to one owner's book (the ``owner`` row rule) as well."""
    await _alike(book, await sample_ids(world), data, roles=(Role.ACCOUNT_TEAM,))


@settings(differential(8))
@given(data=st.data())
async def test_generated_outlooks_answer_alike(
    paths: TwoPaths, world: World, data: st.DataObject
) -> None:
    """``Project.outlook`` (stored, readmodel/figures/stored.py) in every document."""
    await _alike(paths, await sample_ids(world), data, outlook_documents)


@pytest.mark.slow
@settings(differential(60))  # 150 took 128 s of make test; 60 take ~50 s
@given(data=st.data())
async def test_many_generated_documents_answer_alike(
    paths: TwoPaths, world: World, data: st.DataObject
) -> None:
    await _alike(paths, await sample_ids(world), data)
