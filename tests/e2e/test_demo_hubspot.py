"""`clientgraph demo --crm hubspot` as a process: HubSpot instead of Salesforce, filled by sync,
and a company renamed through HubSpot's own API arrives (its signed webhook, or the next pull)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_cli import SYNCED, _env, _free_port, _process, _query, _until

# Slow (a process: the demo): `make test-fast` leaves it out.
pytestmark = pytest.mark.slow

TOKEN = "demo-hubspot-token"


def test_the_hubspot_demo_is_filled_by_sync_and_shows_a_change_made_in_hubspot(
    tmp_path: Path,
) -> None:
    port = _free_port()
    env = {**_env(tmp_path), "CLIENTGRAPH_HUBSPOT__ACCESS_TOKEN": TOKEN}
    args = ["demo", "--crm", "hubspot", "--port", str(port), "--accounts", "30"]
    with _process(args, env, port) as base:

        def synced() -> dict[str, Any] | None:
            data = _query(base, SYNCED)["data"]
            both = {f["system"] for f in data["freshness"]} == {"hubspot", "netsuite"}
            pulled = all(f["status"] == "OK" for f in data["freshness"])
            filled = data["accounts"]["totalCount"] == 30 and data["invoices"]["totalCount"]
            return data if both and pulled and filled else None

        _until(synced, 90)
        linked = _query(base, "{ accounts(first: 30) { nodes { invoices { number } } } }")
        hubspot = f"{base}/simulators/hubspot/crm/v3/objects/companies"
        headers = {"Authorization": f"Bearer {TOKEN}"}
        first = httpx.get(hubspot, params={"limit": "1"}, headers=headers).json()
        company = first["results"][0]["id"]
        patched = httpx.patch(
            f"{hubspot}/{company}",
            json={"properties": {"name": "Renamed In HubSpot Ltd"}},
            headers=headers,
        )
        seen = _until(
            lambda: "Renamed In HubSpot Ltd"
            in str(_query(base, "{ accounts(first: 100) { nodes { name } } }")),
            10,
        )

    assert patched.status_code == 200, patched.text
    assert any(a["invoices"] for a in linked["data"]["accounts"]["nodes"])  # NetSuite, linked
    assert seen
