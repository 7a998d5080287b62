"""The operations console in a real browser: an operator pastes a key, retries a dead-lettered
command and links an ambiguous client to an account, and sees both change; the next sync
applies the link; values from sources stay text."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel import api_keys
from readmodel.tables import (
    Account,
    Command,
    IdentityDecision,
    IntegrationException,
    SyncState,
    table_of,
)
from readmodel.types import utcnow
from tests.e2e.browser import chromium, screenshot, wait_for
from tests.e2e.processes import gateway
from tests.resolvers.commands.world import url_of
from tests.sync_jobs.test_identity import crm_account, customer, links, open_exceptions, pull

pytestmark = pytest.mark.slow
HOSTILE = "<img src=x onerror=\"document.title='pwned'\">"
COMMANDS = table_of(Command)
TRACES = {
    "DEAD_LETTERED": "4bf92f3577b34da6a3ce929d0e0e4736",
    "SUCCEEDED": "0af7651916cd43dd8448eb211c80319c",
}


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_an_operator_retries_a_command_and_links_a_client_from_the_console(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    dead = await _command(engine, "DEAD_LETTERED", "log_time")
    await _command(engine, "SUCCEEDED", "complete_milestone")
    await pull(engine, "salesforce", "account", crm_account("001ACME", "Acme Ltd", "acme.com"))
    await pull(engine, "salesforce", "account", crm_account("001ACM2", HOSTILE, "acme.com"))
    exception = await _exception(engine)
    await _sources(engine)
    key, api_key = await api_keys.create(engine, name="ops console", role="operator", now=utcnow())

    seen = await asyncio.to_thread(_act_in_browser, url_of(engine), key, dead, tmp_path)
    decision = await _decision(engine)
    await pull(engine, "netsuite", "customer", customer("C-42", "Acme", domain="acme.com"))

    row = await _row(engine, dead)
    assert seen["before"] == "DEAD_LETTERED"
    assert "retryCommand: command" in seen["message"] and "is ACCEPTED" in seen["message"]
    assert (row.status, row.attempts) == ("ACCEPTED", 0)
    assert "linkIdentity: recorded" in seen["linked"]
    assert "link to Acme Ltd" in seen["decision"]
    assert "waiting for the next sync" in seen["decision"]
    assert (decision.action, decision.exception_id, decision.decided_role) == (
        "link",
        exception,
        "operator",
    )
    assert decision.decided_by == f"key:{api_key.key_id}"
    assert await links(engine) == {"C-42": "001ACME"}, "the next sync applied the link"
    assert await open_exceptions(engine) == {}
    assert all(trace in seen["traces"] for trace in TRACES.values())
    assert seen["title"] != "pwned" and seen["images"] == 0
    assert HOSTILE in seen["exceptions"]  # shown as text, not made into an element
    assert "FAILING" in seen["sources"] and "HTTP 503 from NetSuite" in seen["sources"]


def _act_in_browser(url: str, key: str, command: int, tmp_path: Path) -> dict[str, Any]:
    with _gateway(url, tmp_path) as base, chromium() as browser:
        browser.get(f"{base}/ops")
        browser.find_element(By.ID, "key").send_keys(key)
        browser.find_element(By.CSS_SELECTOR, "#login button").click()
        dead_row = f'#dead tr[data-command="{_gid(command)}"]'
        row = wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, dead_row))[0]
        wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#exceptions td"))
        before = row.find_element(By.CSS_SELECTOR, ".badge").text
        screenshot(browser, tmp_path, "ops.png")
        row.find_element(By.CSS_SELECTOR, 'button[data-action="retry"]').click()
        wait_for(browser, lambda b: "retryCommand" in b.find_element(By.ID, "status").text)
        wait_for(browser, lambda b: not b.find_elements(By.CSS_SELECTOR, dead_row))
        recent = f'#recent tr[data-command="{_gid(command)}"] .badge'
        wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, recent).text == "ACCEPTED")
        message = browser.find_element(By.ID, "status").text
        linked, decision = _link_in_browser(browser)
        traces = browser.find_element(By.ID, "recent").text
        return {
            "traces": traces,
            "before": before,
            "message": message,
            "linked": linked,
            "decision": decision,
            "title": browser.title,
            "images": len(browser.find_elements(By.CSS_SELECTOR, "main img")),
            "exceptions": browser.find_element(By.ID, "exceptions").text,
            "sources": browser.find_element(By.ID, "sources").text,
        }


def _link_in_browser(browser: Any) -> tuple[str, str]:
    """Choose the first candidate (Acme Ltd) of the ambiguous client and link it."""
    form = browser.find_element(By.CSS_SELECTOR, "#exceptions form.identity")
    options = form.find_elements(By.CSS_SELECTOR, "select option")
    next(o for o in options if o.text.startswith("Acme Ltd")).click()
    form.find_element(By.CSS_SELECTOR, 'button[data-action="linkIdentity"]').click()
    wait_for(browser, lambda b: "linkIdentity" in b.find_element(By.ID, "status").text)
    decided = wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#exceptions .decision"))
    return browser.find_element(By.ID, "status").text, decided[0].text


def _gateway(url: str, tmp_path: Path) -> Any:
    env = {k: v for k, v in os.environ.items() if k != "CLIENTGRAPH_AUTH__ANONYMOUS_ROLE"}
    env["CLIENTGRAPH_DATABASE_URL"] = url
    return gateway(env, tmp_path / "gateway.log")


def _gid(command: int) -> str:
    from tests.resolvers.commands.world import gid

    return gid("Command", command)


async def _command(engine: AsyncEngine, status: str, kind: str) -> int:
    now = utcnow()
    values = {
        "kind": kind,
        "status": status,
        "target_system": "tryton",
        "target_object": "timesheet",
        "idempotency_key": f"console-{status}",
        "input_hash": "x",
        "payload": "{}",
        "correlation_id": f"corr-{status.lower()}",
        "attempts": 8,
        "created_at": now,
        "updated_at": now,
        "last_error_code": "SOURCE_UNAVAILABLE",
        "last_error_message": "503 from tryton " + HOSTILE,
        "trace_context": f"00-{TRACES[status]}-00f067aa0ba902b7-01",
    }
    async with engine.begin() as conn:
        inserted = await conn.execute(insert(COMMANDS).values(**values).returning(COMMANDS.c.id))
        return int(inserted.scalar_one())


async def _exception(engine: AsyncEngine) -> int:
    """NetSuite's customer C-42 matches both CRM accounts (as a pull would have found)."""
    now, accounts = utcnow(), table_of(Account)
    async with engine.connect() as conn:
        found = await conn.execute(select(accounts.c.id, accounts.c.source_id, accounts.c.name))
        candidates = [{"accountId": i, "sourceId": s, "name": n} for i, s, n in found]
    async with engine.begin() as conn:
        inserted = await conn.execute(
            insert(table_of(IntegrationException))
            .values(
                kind="identity_ambiguous",
                source_system="netsuite",
                object_type="customer",
                source_id="C-42",
                message=HOSTILE,
                status="open",
                first_seen_at=now,
                last_seen_at=now,
                details=json.dumps({"candidates": candidates}),
            )
            .returning(table_of(IntegrationException).c.id)
        )
        return int(inserted.scalar_one())


async def _decision(engine: AsyncEngine) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(select(table_of(IdentityDecision)))).one()


async def _sources(engine: AsyncEngine) -> None:
    now = utcnow()
    rows = [
        {
            "system": "salesforce",
            "object_type": "account",
            "records_applied": 3,
            "records_applied_total": 1280,
            "last_success_at": now - timedelta(seconds=40),
            "last_error": None,
        },
        {
            "system": "netsuite",
            "object_type": "customer",
            "records_applied": 0,
            "records_applied_total": 310,
            "last_success_at": now - timedelta(hours=2),
            "last_error": "HTTP 503 from NetSuite (SERVER_UNAVAILABLE)",
        },
    ]
    async with engine.begin() as conn:
        await conn.execute(delete(table_of(SyncState)))  # the CRM pull's own: these instead
        stamped = [r | {"last_attempt_at": now} for r in rows]
        await conn.execute(insert(table_of(SyncState)), stamped)


async def _row(engine: AsyncEngine, command: int) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(select(COMMANDS).where(COMMANDS.c.id == command))).one()
