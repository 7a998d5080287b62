"""``gateway.encoded.compact`` writes what ``json.dumps`` writes, taking an ``EncodedList``'s
text as it is (the freshness ``behind`` list, encoded once per sync state)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gateway.encoded import EncodedList, compact

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def plain(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


@given(VALUES)
def test_compact_is_json_dumps_compact(value: Any) -> None:
    assert compact(value) == plain(value)


@given(st.dictionaries(st.text(), VALUES, max_size=3), st.lists(VALUES, max_size=3))
def test_an_encoded_list_is_written_as_its_text_and_read_as_its_items(
    around: dict[str, Any], items: list[Any]
) -> None:
    encoded = EncodedList(items, plain(items))
    value = {"freshness": {**around, "behind": encoded}}
    assert compact(value) == plain(value)  # json.dumps sees a plain list
    assert json.loads(compact(value))["freshness"]["behind"] == items
    marked = EncodedList(items, '"the text, not the items"')
    assert compact({"behind": marked}) == '{"behind":"the text, not the items"}'
