"""GraphiQL works without the internet: its page names no other host and its assets, vendored
by ``make install`` (``gateway/ops/graphiql.py``), are served with the right types."""

from __future__ import annotations

import re

from tests.conftest import Firm, gateway_client

HTML = {"Accept": "text/html"}
TYPES = {".js": "javascript", ".css": "text/css"}


async def test_the_page_loads_everything_from_the_gateway(firm: Firm) -> None:
    async with gateway_client(firm.url) as client:
        page = await client.get("/graphql", headers=HTML)
        assets = re.findall(r'(?:src|href)="(/graphql/assets/[^"]+)"', page.text)
        answers = {path: await client.get(path) for path in assets}

    assert page.status_code == 200 and "graphiql" in page.text.lower()
    hosts = set(re.findall(r"https?://([^/\s\"'<>]+)", page.text))
    assert hosts <= {"www.w3.org"}  # no CDN: only the SVG namespace of the inline favicon
    assert len(assets) == 7  # react, react-dom, js-cookie, graphiql ×2, the explorer ×2
    for path, answer in answers.items():
        kind = TYPES[path[path.rindex("."):]]
        assert answer.status_code == 200, path
        assert kind in answer.headers["content-type"], (path, answer.headers["content-type"])
        assert len(answer.content) > 500, path


async def test_an_asset_outside_the_folder_is_not_served(firm: Firm) -> None:
    async with gateway_client(firm.url) as client:
        escaped = await client.get("/graphql/assets/../../graphql.py")
        missing = await client.get("/graphql/assets/react@18.2.0/nothing.js")
    assert escaped.status_code == 404 and missing.status_code == 404
