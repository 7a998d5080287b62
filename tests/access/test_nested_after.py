"""Nested lists page with ``after`` (the id of the last item received), on both read paths:
walked to the end they give every item once in the list's order, the statements do not grow
with the rows, and an id that is not an item of that list — malformed, of another type, of
another parent, or outside the caller's rows — is BAD_USER_INPUT and tells nothing more."""

from __future__ import annotations

from typing import Any

import pytest

from clientgraph.access.roles import Role
from resolvers.ids import to_global_id
from tests.access.compiled import Answer, TwoPaths
from tests.access.world import HIDDEN_CHILD, OTHER, PARTNER_BY_ID, PARTNER_BY_REF, World

LISTS = {  # parent type → (root field of one, root list of all, its nested lists)
    "Account": (
        "account",
        "accounts",
        ("children", "contacts", "opportunities", "engagements", "projects", "invoices"),
    ),
    "Engagement": ("engagement", "engagements", ("projects",)),
    "Project": ("project", "projects", ("milestones", "invoices")),
    "Invoice": ("invoice", "invoices", ("payments",)),
}
CASES = [(parent, name) for parent, (_, _, names) in LISTS.items() for name in names]


def _data(answer: Answer) -> Any:
    """An answer's ``data`` as plain JSON (``ordered`` keeps objects as pairs)."""
    assert answer.status == 200, answer.body
    body = _plain(answer.body)
    assert "errors" not in body, body["errors"]
    return body["data"]


def _plain(value: Any) -> Any:
    """``ordered`` JSON back to dicts (its objects are lists of (key, value) tuples)."""
    if isinstance(value, list) and value and all(isinstance(p, tuple) for p in value):
        return {k: _plain(v) for k, v in value}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _codes(answer: Answer) -> list[str]:
    return [e["extensions"]["code"] for e in _plain(answer.body)["errors"]]


async def _longest(paths: TwoPaths, parent: str, name: str) -> str:
    """The parent (seen by the admin) with the longest ``name`` list: the walk has pages."""
    _, roots, _ = LISTS[parent]
    query = f"{{ {roots}(first: 100) {{ nodes {{ id {name}(first: 100) {{ id }} }} }} }}"
    per_field, _ = await paths.both(Role.ADMIN, query)
    nodes = _data(per_field)[roots]["nodes"]
    best = max(nodes, key=lambda n: len(n[name]))
    assert best[name], f"no {parent} has {name}: the walk would prove nothing"
    return str(best["id"])


def _document(parent: str, name: str, first: int) -> str:
    root, _, _ = LISTS[parent]
    return (
        f"query($id: ID!, $after: ID) {{ {root}(id: $id) {{ "
        f"{name}(first: {first}, after: $after) {{ id }} }} }}"
    )


async def _walk(paths: TwoPaths, role: Role, parent: str, name: str, key: str, size: int) -> list:
    """The list page by page on both paths (they must agree), and each page's statements."""
    root, _, _ = LISTS[parent]
    walked: list[str] = []
    after = None
    counts: set[tuple[int, int]] = set()
    while True:
        variables = {"id": key, "after": after}
        per_field, compiled = await paths.both(role, _document(parent, name, size), variables)
        assert per_field.body == compiled.body, (per_field.body, compiled.body)
        assert compiled.statements == 1  # compiled, cursor included: no fallback
        counts.add((per_field.statements, compiled.statements))
        page = [item["id"] for item in _data(per_field)[root][name]]
        assert len(page) <= size
        walked += page
        if not page:
            break
        after = page[-1]
    assert len(counts) == 1, counts  # the same statements for every page, the last one too
    return walked


@pytest.mark.parametrize(("parent", "name"), CASES, ids=[f"{p}.{n}" for p, n in CASES])
async def test_paging_a_nested_list_gives_every_item_once(
    paths: TwoPaths, parent: str, name: str
) -> None:
    key = await _longest(paths, parent, name)
    root, _, _ = LISTS[parent]
    whole, _ = await paths.both(Role.ADMIN, _document(parent, name, 100), {"id": key})
    expected = [item["id"] for item in _data(whole)[root][name]]
    for size in (1, 2):
        walked = await _walk(paths, Role.ADMIN, parent, name, key, size)
        assert walked == expected
        assert len(set(walked)) == len(walked)


async def test_the_statements_do_not_grow_with_the_rows(paths: TwoPaths) -> None:
    account = to_global_id("Account", PARTNER_BY_ID)
    query = (
        "query($id: ID!, $after: ID) { account(id: $id) { projects(first: %d) { id "
        "milestones(first: %d, after: $after) { id } invoices(first: %d) { id "
        "payments(first: %d) { id } } } } }"
    )
    small, _ = await paths.both(Role.ADMIN, query % (1, 1, 1, 1), {"id": account})
    large, compiled = await paths.both(Role.ADMIN, query % (100, 100, 100, 100), {"id": account})
    assert large.statements == small.statements  # one per list, however many rows
    assert compiled.statements == 1


async def test_after_walks_a_partners_list_within_its_rows(paths: TwoPaths, world: World) -> None:
    account = to_global_id("Account", PARTNER_BY_ID)
    query = "query($id: ID!) { account(id: $id) { projects(first: 100) { id } } }"
    seen, _ = await paths.both(Role.PARTNER, query, {"id": account})
    expected = [p["id"] for p in _data(seen)["account"]["projects"]]
    assert len(expected) >= 2, "the partner's account has two projects (tests/access/world.py)"
    walked = await _walk(paths, Role.PARTNER, "Account", "projects", account, 1)
    assert walked == expected


def _refusal(answer: Answer) -> tuple[Any, str]:
    """The data and the error message, with the id the client sent removed from it."""
    body = _plain(answer.body)
    assert _codes(answer) == ["BAD_USER_INPUT"], body
    error = body["errors"][0]
    message = error["message"].split("'")
    return body.get("data"), message[0] + message[-1]


async def _children_after(paths: TwoPaths, role: Role, after: str) -> tuple[Answer, Answer]:
    query = "query($id: ID!, $a: ID) { account(id: $id) { children(after: $a) { id } } }"
    return await paths.both(
        role, query, {"id": to_global_id("Account", PARTNER_BY_REF), "a": after}
    )


@pytest.mark.parametrize(
    "after",
    [
        "nope",
        to_global_id("Project", 1),  # another type
        to_global_id("Account", OTHER),  # an account, not a child of this one
        to_global_id("Account", 10**12),  # no such account
    ],
    ids=["malformed", "another-type", "another-parent", "absent"],
)
async def test_an_id_that_is_not_an_item_of_the_list_is_bad_user_input(
    paths: TwoPaths, after: str
) -> None:
    per_field, compiled = await _children_after(paths, Role.ADMIN, after)
    assert per_field.body == compiled.body
    assert _refusal(per_field)[0] == {"account": None}


async def test_a_row_outside_the_partners_rows_reads_as_one_that_does_not_exist(
    paths: TwoPaths,
) -> None:
    hidden = to_global_id("Account", HIDDEN_CHILD)  # a child of its account it may not see
    admin, _ = await _children_after(paths, Role.ADMIN, hidden)
    _data(admin)  # the admin may page after it
    outside, outside_compiled = await _children_after(paths, Role.PARTNER, hidden)
    absent, _ = await _children_after(paths, Role.PARTNER, to_global_id("Account", 10**12))
    assert outside.body == outside_compiled.body
    assert _refusal(outside) == _refusal(absent)


async def test_a_field_that_fails_leaves_the_rest_of_the_request_standing(
    paths: TwoPaths,
) -> None:
    """graphql-core cancels the other fields of an object whose field failed; a load they
    shared with fields elsewhere (the same account's ``sourceRefs``) must still answer those."""
    account = to_global_id("Account", PARTNER_BY_ID)
    query = (
        "query($id: ID!) { whole: account(id: $id) { sourceRefs { system } } "
        "broken: account(id: $id) { sourceRefs { system } "
        'projects(after: "nope") { id } } }'
    )
    for _ in range(3):
        per_field, compiled = await paths.both(Role.ADMIN, query, {"id": account})
        for answer in (per_field, compiled):
            body = _plain(answer.body)
            assert answer.status == 200, body
            assert _codes(answer) == ["BAD_USER_INPUT"]
            assert body["data"]["broken"] is None
            assert body["data"]["whole"]["sourceRefs"], body
