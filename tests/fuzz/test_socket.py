"""The same fuzz run over graphql-transport-ws: queries, mutations and ``commandUpdated``.

Each example opens a socket of its own (a refusal may close it) and reads until the
operation's ``complete`` or ``error``; a subscription is completed by the client after its
first answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import graphql
import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from websockets.asyncio.client import connect

from tests.fuzz.checks import assert_socket_message
from tests.fuzz.conftest import Target, fuzz_settings, served
from tests.fuzz.strategies import documents, root_fields

CALLERS = ("admin", "partner")


@pytest.fixture(scope="module")
async def read_socket(read_target: Target) -> AsyncIterator[str]:
    async with served(read_target.app) as url:
        yield url


@pytest.fixture(scope="module")
async def write_socket(write_target: Target) -> AsyncIterator[str]:
    async with served(write_target.app) as url:
        yield url


def as_subscription(query: str) -> str:
    """``{ command(id: …) { … } }`` → ``subscription { commandUpdated(id: …) { … } }``."""
    operation = graphql.parse(query).definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    first = operation.selection_set.selections[0]
    assert isinstance(first, graphql.FieldNode)
    field = graphql.FieldNode(
        name=graphql.NameNode(value="commandUpdated"),
        arguments=first.arguments,
        directives=(),
        selection_set=first.selection_set,
    )
    document = graphql.DocumentNode(
        definitions=(
            graphql.OperationDefinitionNode(
                operation=graphql.OperationType.SUBSCRIPTION,
                variable_definitions=(),
                directives=(),
                selection_set=graphql.SelectionSetNode(selections=(field,)),
            ),
        )
    )
    return graphql.print_ast(document)


async def run_over_socket(url: str, key: str, document: str) -> list[dict[str, Any]]:
    """Every message the operation gets, each checked as it arrives."""
    note(document)  # the failing document itself, not only how it was drawn
    seen: list[dict[str, Any]] = []
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": document}}))
        while not seen or seen[-1]["type"] not in ("complete", "error"):
            text = str(await asyncio.wait_for(ws.recv(), 30))
            message = json.loads(text)
            assert_socket_message(message, text)
            seen.append(message)
            if document.startswith("subscription") and message["type"] == "next":
                await ws.send(json.dumps({"id": "1", "type": "complete"}))
                break
    return seen


@pytest.mark.parametrize("caller", CALLERS)
@fuzz_settings(12)
@given(data=st.data())
async def test_any_query_over_the_socket_gets_a_clean_answer(
    read_target: Target, read_socket: str, caller: str, data: st.DataObject
) -> None:
    fields = tuple(root_fields("query"))
    document = data.draw(documents("query", fields, tuple(read_target.ids)), label="document")
    await run_over_socket(read_socket, read_target.keys[caller], document)


@pytest.mark.parametrize("caller", CALLERS)
@fuzz_settings(10)
@given(data=st.data())
async def test_any_mutation_or_subscription_over_the_socket_gets_a_clean_answer(
    write_target: Target, write_socket: str, caller: str, data: st.DataObject
) -> None:
    ids = tuple(write_target.ids)
    if data.draw(st.booleans(), label="subscription"):
        query = data.draw(documents("query", ("command",), ids, negative_share=False))
        document = as_subscription(query)
        data.draw(st.just(document), label="document")
    else:
        fields = tuple(root_fields("mutation"))
        document = data.draw(documents("mutation", fields, ids), label="document")
    await run_over_socket(write_socket, write_target.keys[caller], document)
