"""Workloads 1–3 as request bodies for each server, built against the running servers.

clientgraph gets bench/queries/<name>.graphql; the peer gets the equivalent query in
bench/queries/postgraphile/<name>.graphql (each file says what it includes and excludes).
The overdue-invoices page is a deep one: both servers are paged ``deep_pages`` pages of 100 in
(keyset cursors on both) and the workload asks for the page after that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from resolvers.ids import to_global_id

QUERIES = Path(__file__).parent / "queries"
NAMES = ("unified_client_view", "portfolio_list", "overdue_invoices")
CLIENTGRAPH, PEER = "clientgraph", "postgraphile"
WARM, SQLITE = "clientgraph_warm", "clientgraph_sqlite"
"""clientgraph with its response cache on (every request after the first a hit), and the
embedded default (the same firm seeded into a SQLite file, cache off)."""


@dataclass(frozen=True)
class Request:
    """One workload's request for one server: the URL wrk POSTs to and the JSON body."""

    url: str
    body: str
    pid: int | None = None


def body(query: str, variables: dict[str, Any] | None = None) -> str:
    return json.dumps({"query": query, "variables": variables or {}})


def query(target: str, name: str) -> str:
    folder = QUERIES / "postgraphile" if target == PEER else QUERIES
    return (folder / f"{name}.graphql").read_text()


def build(
    target: str, url: str, account_id: int, deep_pages: int, pid: int | None = None
) -> dict[str, Request]:
    """Each workload's request for ``target`` at ``url``."""
    today = datetime.now(UTC).date().isoformat()
    if target == CLIENTGRAPH:
        account = {"id": to_global_id("Account", account_id)}
        overdue: dict[str, Any] = {}
        cursor = ("invoices", "after")
    else:
        account = {"rowId": str(account_id)}
        overdue = {"today": today}
        cursor = ("allInvoices", "after")
    after = _deep_cursor(url, query(target, "overdue_invoices"), overdue, cursor[0], deep_pages)
    variables = {
        "unified_client_view": account,
        "portfolio_list": {},
        "overdue_invoices": {**overdue, cursor[1]: after},
    }
    return {n: Request(url, body(query(target, n), variables[n]), pid) for n in NAMES}


def _deep_cursor(
    url: str, text: str, variables: dict[str, Any], field: str, pages: int
) -> str | None:
    """The endCursor after ``pages`` pages (or the last page's, if there are fewer)."""
    after = None
    with httpx.Client(timeout=60) as client:
        for _ in range(pages):
            answer = _post(client, url, body(text, {**variables, "after": after}))
            info = answer["data"][field]["pageInfo"]
            if not info["hasNextPage"]:
                break
            after = info["endCursor"]
    return after


def check(requests: dict[str, Request]) -> dict[str, dict[str, Any]]:
    """Send each request once: fail on GraphQL errors; the response size, its list rows and
    its row keys in order (names, codes, numbers: to check both servers return the same rows).
    """
    out = {}
    with httpx.Client(timeout=60) as client:
        for name, request in requests.items():
            answer = _post(client, request.url, request.body)
            raw = json.dumps(answer, separators=(",", ":"))
            out[name] = {
                "response_bytes": len(raw.encode()),
                "rows": count_rows(answer),
                "keys": row_keys(answer, []),
            }
    return out


def row_keys(value: Any, out: list[str]) -> list[str]:
    """Every name, code and number in document order (health factors left out)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("name", "code", "number") and isinstance(item, str):
                out.append(item)
            elif key != "factors":
                row_keys(item, out)
    elif isinstance(value, list):
        for item in value:
            row_keys(item, out)
    return out


def count_rows(value: Any, key: str = "") -> int:
    """Objects inside lists, at any depth (health factors left out: the peer has none)."""
    if isinstance(value, list):
        if key == "factors":
            return 0
        return sum(1 + count_rows(v) for v in value if isinstance(v, dict))
    if isinstance(value, dict):
        return sum(count_rows(v, k) for k, v in value.items())
    return 0


def fetch(url: str, request_body: str) -> bytes:
    """The raw response bytes of one request (the ceiling serves clientgraph's)."""
    response = httpx.post(
        url, content=request_body, headers={"content-type": "application/json"}, timeout=60
    )
    response.raise_for_status()
    return response.content


def _post(client: httpx.Client, url: str, request_body: str) -> dict[str, Any]:
    response = client.post(url, content=request_body, headers={"content-type": "application/json"})
    answer: dict[str, Any] = response.json()
    if "errors" in answer:
        raise SystemExit(f"{url} answered with errors: {answer['errors'][:2]}")
    return answer
