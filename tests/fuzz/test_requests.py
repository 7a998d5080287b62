"""What arrives before GraphQL: request bodies that are not what a client should send, and
variables of any JSON shape for every argument of every query and mutation."""

from __future__ import annotations

import json
from typing import Any

import graphql
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.checks import assert_http_answer
from tests.fuzz.conftest import Target, fuzz_settings
from tests.fuzz.strategies import root_fields, schema

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
REQUEST_KEYS = ["query", "variables", "operationName", "extensions", "documentId"]


def bodies() -> st.SearchStrategy[bytes]:
    """A JSON value of any shape (an object with GraphQL's keys, often of the wrong types), or
    bytes that are not UTF-8 JSON at all."""
    request = st.dictionaries(st.sampled_from(REQUEST_KEYS), JSON | st.just("{ __typename }"))
    as_json = st.one_of(JSON, request).map(lambda v: json.dumps(v).encode())
    return st.one_of(as_json, as_json, st.binary(max_size=64))


def operation(kind: str, name: str) -> str:
    """``name`` with every argument passed as a variable, selecting ``__typename``."""
    root = schema().query_type if kind == "query" else schema().mutation_type
    assert root is not None
    field = root.fields[name]
    declared = ", ".join(f"${a}: {t.type}" for a, t in field.args.items())
    passed = ", ".join(f"{a}: ${a}" for a in field.args)
    target = graphql.get_named_type(field.type)
    selection = "" if graphql.is_leaf_type(target) else " { __typename }"
    head = f"{kind}({declared})" if declared else kind
    call = f"{name}({passed})" if passed else name
    return f"{head} {{ {call}{selection} }}"


# A subscription over HTTP too: it belongs on the socket, and must be refused with a code.
OPERATIONS = {
    "query": [operation("query", n) for n in root_fields("query")],
    "mutation": [operation("mutation", n) for n in root_fields("mutation")],
    "subscription": ["subscription($id: ID!) { commandUpdated(id: $id) { __typename } }"],
}


def variables(document: str, ids: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    names = [v.variable.name.value for v in _definition(document).variable_definitions or ()]
    value = st.one_of(st.sampled_from(ids), JSON)
    return st.fixed_dictionaries({}, optional={n: value for n in names})


def _definition(document: str) -> graphql.OperationDefinitionNode:
    definition = graphql.parse(document).definitions[0]
    assert isinstance(definition, graphql.OperationDefinitionNode)
    return definition


@fuzz_settings(25)
@given(body=bodies())
async def test_any_body_gets_a_clean_answer(read_target: Target, body: bytes) -> None:
    response = await read_target.client.post(
        "/graphql",
        content=body,
        headers={**read_target.headers("admin"), "content-type": "application/json"},
    )
    assert_http_answer(response.status_code, response.text, _json(response.text))


@pytest.mark.parametrize("caller", ["admin", "partner"])
@pytest.mark.parametrize("kind", OPERATIONS)
@fuzz_settings(12)
@given(data=st.data())
async def test_any_variables_get_a_clean_answer(
    write_target: Target, kind: str, caller: str, data: st.DataObject
) -> None:
    document = data.draw(st.sampled_from(OPERATIONS[kind]), label="document")
    values = data.draw(variables(document, write_target.ids), label="variables")
    response = await write_target.client.post(
        "/graphql",
        json={"query": document, "variables": values},
        headers=write_target.headers(caller),
    )
    assert_http_answer(response.status_code, response.text, _json(response.text))


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text  # not JSON: assert_graphql_response says so, with the text
