"""The NetSuite user-event script (SuiteScript 2.1) under node's test runner, and its signed
requests checked by clientgraph's own verifier and accepted by the webhook receiver.

``node --test`` runs ``tests/systems/suitescript/clientgraph_ue.test.js`` (N/https,
N/crypto, N/encode, N/runtime and N/log faked) with a key made here; the requests the
script signed come back in a file and must pass ``sync_jobs.webhooks.standard.verify`` with
the same secret in its ``whsec_`` form. A failing node test fails this test.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from sync_jobs.webhooks.events import parse_events
from sync_jobs.webhooks.receive import Receipt, receive
from sync_jobs.webhooks.signature import BadSignature
from sync_jobs.webhooks.standard import verify
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
NODE_TEST = ROOT / "tests" / "systems" / "suitescript" / "clientgraph_ue.test.js"


def run_node(tmp_path: Path) -> tuple[str, list[dict[str, object]]]:
    """Run the node tests with a fresh key; the whsec_ secret and the signed requests."""
    node = shutil.which("node")
    if node is None:
        message = "node is needed for the SuiteScript tests (apt-get install nodejs)"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    out = tmp_path / "requests.json"
    env = {**os.environ, "CG_SUITESCRIPT_KEY_B64": key, "CG_SUITESCRIPT_OUT": str(out)}
    done = subprocess.run(
        [node, "--test", str(NODE_TEST)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout and "# pass " in done.stdout
    return f"whsec_{key}", json.loads(out.read_text())


def test_the_scripts_signatures_pass_clientgraphs_verifier(tmp_path: Path) -> None:
    secret, requests = run_node(tmp_path)

    assert len(requests) == 2
    for request in requests:
        headers, body = request["headers"], str(request["body"]).encode()
        assert isinstance(headers, dict)
        delivery_id = verify(secret, headers, body, now=datetime.now(UTC), tolerance_seconds=300)
        assert delivery_id == headers["webhook-id"]
        [event] = parse_events("netsuite", body, delivery_id=delivery_id)
        assert event.event_id == delivery_id
    headers = requests[0]["headers"]
    tampered = str(requests[0]["body"]).replace('"job"', '"invoice"').encode()
    assert isinstance(headers, dict)
    with pytest.raises(BadSignature):
        verify(secret, headers, tampered, now=datetime.now(UTC), tolerance_seconds=300)


async def test_the_scripts_delivery_is_recorded_once(engine: AsyncEngine, tmp_path: Path) -> None:
    secret, requests = run_node(tmp_path)
    request = requests[0]
    headers, body = request["headers"], str(request["body"]).encode()
    assert isinstance(headers, dict)

    async def deliver() -> Receipt:
        now = datetime.now(UTC)
        return await receive(
            engine, "netsuite", body, secret=secret, headers=headers, now=now, tolerance_seconds=300
        )

    first, again = await deliver(), await deliver()

    assert (first.accepted, first.duplicates) == ([headers["webhook-id"]], 0)
    assert [(h.object_type, h.ids) for h in first.hints] == [("job", ("1234",))]
    assert (again.accepted, again.duplicates) == ([], 1)
