"""The checks of the fuzz run catch what they are there to catch (and pass a clean answer)."""

from __future__ import annotations

import json

import pytest

from tests.fuzz.checks import assert_graphql_response, assert_http_answer

CLEAN = {"data": {"account": None}, "errors": [{"message": "no", "extensions": {"code": "X"}}]}
BROKEN = [
    {
        "data": None,
        "errors": [
            {"message": "Internal server error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
        ],
    },
    {"errors": [{"message": "no code"}]},
    {"errors": []},
    {"result": 1},
    {"errors": [{"message": 'File "/app/x.py", line 3', "extensions": {"code": "X"}}]},
    {"errors": [{"message": "SELECT account.id FROM account WHERE", "extensions": {"code": "X"}}]},
    {"errors": [{"message": "Traceback (most recent call last):", "extensions": {"code": "X"}}]},
    {"errors": [{"message": "asyncpg.exceptions.DataError", "extensions": {"code": "X"}}]},
    "plain text",
]


def test_a_clean_answer_passes() -> None:
    assert_http_answer(200, json.dumps(CLEAN), CLEAN)


@pytest.mark.parametrize("body", BROKEN)
def test_a_broken_answer_fails(body: object) -> None:
    with pytest.raises(AssertionError):
        assert_graphql_response(body, json.dumps(body))


def test_a_5xx_fails() -> None:
    with pytest.raises(AssertionError):
        assert_http_answer(502, json.dumps(CLEAN), CLEAN)
