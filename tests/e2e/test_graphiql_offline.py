"""GraphiQL renders in Chromium from the gateway's own assets (the machine needs no internet;
the browser is refused every other host, so a CDN URL left behind would break the page)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.browser import chromium, screenshot, wait_for
from tests.e2e.processes import gateway
from tests.resolvers.commands.world import url_of

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_graphiql_renders_without_a_cdn(engine: AsyncEngine, tmp_path: Path) -> None:
    seen = await asyncio.to_thread(_open_graphiql, url_of(engine), tmp_path)

    assert seen["errors"] == []
    assert seen["editors"] >= 1 and seen["react"] is True
    assert all(url.startswith(seen["base"]) for url in seen["loaded"]), seen["loaded"]


def _open_graphiql(url: str, tmp_path: Path) -> dict[str, object]:
    env = dict(os.environ, CLIENTGRAPH_DATABASE_URL=url)
    with gateway(env, tmp_path / "gateway.log") as base, chromium() as browser:
        browser.execute_cdp_cmd("Network.enable", {})
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*://unpkg.com/*"]})
        browser.get(f"{base}/graphql")
        wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, ".graphiql-container"))
        wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, ".graphiql-query-editor"))
        screenshot(browser, tmp_path, "graphiql.png")
        loaded = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        logs = browser.get_log("browser")
        return {
            "base": base,
            "loaded": [u for u in loaded if not u.startswith("data:")],
            "errors": [entry["message"] for entry in logs if entry["level"] == "SEVERE"],
            "editors": len(browser.find_elements(By.CSS_SELECTOR, ".CodeMirror, .cm-editor")),
            "react": browser.execute_script("return typeof window.React === 'object'"),
        }
