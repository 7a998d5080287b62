"""Draw one document over some root fields and send it over HTTP as one caller."""

from __future__ import annotations

from hypothesis import note
from hypothesis import strategies as st

from tests.fuzz.checks import assert_http_answer
from tests.fuzz.conftest import Target
from tests.fuzz.strategies import documents


async def send_drawn(
    target: Target, caller: str, kind: str, fields: tuple[str, ...], data: st.DataObject
) -> None:
    document = data.draw(documents(kind, fields, tuple(target.ids)), label="document")
    note(document)  # the failing document itself, not only how it was drawn
    response = await target.client.post(
        "/graphql", json={"query": document}, headers=target.headers(caller)
    )
    assert_http_answer(response.status_code, response.text, response.json())
