"""The operations console: a static page (no data, its own files only) over /graphql."""

from __future__ import annotations

from tests.conftest import Firm, gateway_client


async def test_the_console_page_and_its_assets_are_served_with_a_strict_policy(
    firm: Firm,
) -> None:
    async with gateway_client(firm.url) as client:
        page = await client.get("/ops")
        script = await client.get("/ops/assets/ops.js")
        style = await client.get("/ops/assets/ops.css")

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "connect-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "http" not in page.text.replace("http-equiv", "")  # no other host, no CDN
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")


async def test_the_console_never_writes_markup_from_data(firm: Firm) -> None:
    async with gateway_client(firm.url) as client:
        script = (await client.get("/ops/assets/ops.js")).text

    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script, sink
