"""A live Tryton for the connector's tests: one server per session, from the cached template.

The first run builds the template (~30 s); later sessions copy it and start trytond in
about a second. Under ``CI=true`` a Tryton that cannot be built or started fails the tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest

from sync_jobs.connectors.base import Connector
from sync_jobs.connectors.tryton.client import TrytonClient
from sync_jobs.connectors.tryton.connector import TrytonConnector
from systems.tryton.bootstrap import BootstrapError, create
from systems.tryton.server import ServerError, TrytonServer
from systems.tryton.site import ADMIN_LOGIN
from tests.conftest import unreachable

PASSWORD = "tryton-test-admin"  # this session's throwaway database only
DEMO_CLIENTS = 8


@dataclass(frozen=True)
class LiveTryton:
    server: TrytonServer

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def client(self, http: httpx.AsyncClient, password: str = PASSWORD) -> TrytonClient:
        return TrytonClient(self.base_url, self.server.site.database, ADMIN_LOGIN, password, http)


@pytest.fixture(scope="session")
def tryton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveTryton]:
    """A running Tryton with the demo firm (8 clients) in a directory of this session."""
    directory = tmp_path_factory.mktemp("tryton")
    try:
        built = create(directory, PASSWORD, demo=DEMO_CLIENTS)
        server = TrytonServer(built.site)
        server.start()
    except (BootstrapError, ServerError, OSError) as error:
        unreachable("a Tryton server", error)
    try:
        yield LiveTryton(server)
    finally:
        server.stop()


@pytest.fixture
async def rpc(tryton: LiveTryton) -> AsyncIterator[TrytonClient]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield tryton.client(http)


@pytest.fixture
def connector(rpc: TrytonClient) -> TrytonConnector:
    built = TrytonConnector(rpc, page_size=5)  # small pages: paging is exercised too
    _: Connector = built  # mypy checks it keeps the protocol
    return built
