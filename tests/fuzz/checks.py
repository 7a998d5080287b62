"""What every answer to any document must be, whoever asks and however it is sent."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import event
from hypothesis.control import currently_in_test_context

# Internals that must never reach a client. The hostile strings of tests/fuzz/strategies.py
# are chosen so that an echo of the document cannot match these.
LEAKS = re.compile(
    r"Traceback \(most recent call last\)"
    r"|File \"[^\"]+\", line \d+"
    r"|(?:/work/|/usr/lib/|/home/|site-packages|\.venv/)"
    r"|\b(?:SELECT|INSERT INTO|UPDATE|DELETE FROM)\b[^\n]{0,200}\b(?:FROM|VALUES|SET|WHERE)\b"
    r"|(?i:sqlalchemy|asyncpg|aiosqlite|sqlite3|psycopg)"
    r"|INTERNAL_SERVER_ERROR|Internal Server Error"
)
RESPONSE_KEYS = {"data", "errors", "extensions"}


def leaks(text: str) -> list[str]:
    return [m.group(0)[:120] for m in LEAKS.finditer(text)]


def strings(value: Any) -> list[str]:
    """Every string in a decoded JSON value, keys too (escapes undone: a path in quotes)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (k, *strings(v))]
    if isinstance(value, list):
        return [t for v in value for t in strings(v)]
    return []


def assert_graphql_response(body: Any, text: str) -> None:
    """A GraphQL response (data or errors), each error with a message and a code, no internals."""
    assert isinstance(body, dict), f"not a JSON object: {text[:300]}"
    assert body.keys() <= RESPONSE_KEYS, f"unexpected keys {sorted(body)}"
    assert "data" in body or "errors" in body, f"neither data nor errors: {text[:300]}"
    if "data" in body:
        assert body["data"] is None or isinstance(body["data"], dict)
    errors = body.get("errors", [])
    assert "errors" not in body or (isinstance(errors, list) and errors), "empty errors"
    for error in errors:
        assert isinstance(error.get("message"), str), error
        code = (error.get("extensions") or {}).get("code")
        assert isinstance(code, str) and code, f"an error without extensions.code: {error}"
        assert code != "INTERNAL_SERVER_ERROR", f"internal error: {error}"
    found = leaks("\n".join([text, *strings(body)]))
    assert not found, f"internals in the answer: {found}"
    if currently_in_test_context():
        # --hypothesis-show-statistics tells how the cases were answered: data, or which refusal
        codes = sorted({e["extensions"]["code"] for e in errors})
        event("answer", ("data " if body.get("data") else "") + " ".join(codes))


def assert_http_answer(status: int, text: str, body: Any) -> None:
    assert status < 500, f"HTTP {status}: {text[:500]}"
    assert_graphql_response(body, text)


def assert_socket_message(message: dict[str, Any], text: str) -> None:
    """A graphql-transport-ws message for an operation: ``next`` (a response), ``error`` (a
    list of errors) or ``complete``."""
    kind = message.get("type")
    assert kind in {"next", "error", "complete"}, f"unexpected message {text[:300]}"
    if kind == "next":
        assert_graphql_response(message["payload"], text)
    elif kind == "error":
        payload = message["payload"]
        assert isinstance(payload, list) and payload, text[:300]
        assert_graphql_response({"errors": payload}, text)
