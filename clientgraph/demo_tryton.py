"""``clientgraph demo --erp tryton``: a real Tryton in place of the simulated NetSuite.

The demo's Tryton lives in ``.clientgraph-demo/tryton/`` next to the read model (the SQLite
file's directory; the working directory for PostgreSQL). It holds the ERP/PSA half of the
same generated firm (``systems.tryton.firm``), copied from a template cached per firm, and
runs as a child ``trytond`` on a free local port for as long as the demo does. The ``admin``
password is ``CLIENTGRAPH_TRYTON__PASSWORD`` if set, else made up for this run; it is
written to ``admin.password`` in that directory (readable by you only), never printed.
"""

from __future__ import annotations

import secrets
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr
from sqlalchemy.engine import make_url

from clientgraph.demo import SEED, DemoSources
from clientgraph.settings import Settings, TrytonSettings

if TYPE_CHECKING:
    from systems.tryton.server import TrytonServer

DEMO_DIRECTORY = ".clientgraph-demo"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class ErpError(Exception):
    """The demo's ERP could not be prepared or started; the message says why."""


@dataclass(frozen=True)
class DemoTryton:
    """The demo's running Tryton: how the connector reaches it, and where its files are."""

    settings: TrytonSettings
    directory: Path

    @property
    def url(self) -> str:
        """Its JSON-RPC endpoint (``POST`` calls here)."""
        return f"{self.settings.base_url}/{self.settings.database}/rpc/"


def demo_directory(settings: Settings) -> Path:
    """``.clientgraph-demo`` beside the SQLite read model, else in the working directory."""
    url = make_url(settings.database_url.get_secret_value())
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(str(url.database)).resolve().parent / DEMO_DIRECTORY
    return Path.cwd() / DEMO_DIRECTORY


@contextmanager
def running_erp(
    settings: Settings, sources: DemoSources, *, accounts: int, today: date
) -> Iterator[DemoSources]:
    """``sources`` with the demo's Tryton started (and stopped after), if it is the ERP."""
    if sources.erp != "tryton":
        yield sources
        return
    from systems.tryton.bootstrap import BootstrapError
    from systems.tryton.firm import prepare
    from systems.tryton.server import ServerError, TrytonServer

    directory = demo_directory(settings) / "tryton"
    password = settings.tryton.password.get_secret_value() or secrets.token_urlsafe(18)
    try:
        prepared = prepare(directory, password, accounts=accounts, seed=SEED, today=today, say=_say)
        _say(_how_prepared(prepared.loaded, prepared.seconds))
        _keep_password(directory, password)
        server = TrytonServer(prepared.site)
        server.start()
    except (BootstrapError, ServerError, OSError) as error:
        raise ErpError(str(error)) from error
    tryton = DemoTryton(_connection(settings, server, password), directory)
    previous = {s: signal.signal(s, _exit) for s in STOP_SIGNALS}
    try:
        yield replace(sources, tryton=tryton)
    finally:
        server.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _exit(signum: int, frame: object) -> None:
    """SIGTERM (or Ctrl-C) ends the demo through ``finally`` blocks, so trytond stops too.

    uvicorn handles both while it serves, restores the handlers it found, then raises the
    signal again: with Python's default SIGTERM handler the process would die on the spot
    and leave trytond running (and Ctrl-C would end in a traceback).
    """
    raise SystemExit(128 + signum)


def _connection(settings: Settings, server: TrytonServer, password: str) -> TrytonSettings:
    """The connector's settings for the running server (other settings, e.g. limits, kept)."""
    from systems.tryton.site import ADMIN_LOGIN

    return settings.tryton.model_copy(
        update={
            "base_url": f"http://127.0.0.1:{server.port}",
            "database": server.site.database,
            "login": ADMIN_LOGIN,
            "password": SecretStr(password),
        }
    )


def _keep_password(directory: Path, password: str) -> None:
    """Where a newcomer finds the password to log in to Tryton, readable by its owner only."""
    secret = directory / "admin.password"
    secret.touch(mode=0o600)
    secret.chmod(0o600)
    secret.write_text(password + "\n")


def _how_prepared(loaded: bool, seconds: float) -> str:
    if loaded:
        return f"Tryton: the firm was loaded in {seconds:.1f} s and cached for the next demo"
    return "Tryton: the firm's database was copied from the cache"


def _say(message: str) -> None:
    print(f"clientgraph demo: {message}", file=sys.stderr)
