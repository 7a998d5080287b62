"""Where one Tryton database lives: a directory holding its config file and its SQLite file."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

DATABASE = "clientgraph"
ADMIN_LOGIN = "admin"


@dataclass(frozen=True)
class Site:
    """A Tryton database in ``directory`` (SQLite: ``<directory>/<database>.sqlite``)."""

    directory: Path
    database: str = DATABASE

    @property
    def config_file(self) -> Path:
        return self.directory / "trytond.conf"

    @property
    def db_file(self) -> Path:
        return self.directory / f"{self.database}.sqlite"

    @property
    def log_file(self) -> Path:
        return self.directory / "trytond.log"

    def write_config(self, port: int = 8000) -> None:
        """(Re)write the config: SQLite in this directory, JSON-RPC on ``127.0.0.1:port``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(
            "[database]\nuri = sqlite://\n"
            f"path = {self.directory.resolve()}\n\n"
            f"[web]\nlisten = 127.0.0.1:{port}\n"
        )


def tryton_env(**extra: str) -> dict[str, str]:
    """The environment for every Tryton process: UTC, because Tryton stamps carry no zone.

    ``last_modified_at`` is read back as a naive datetime; the connector treats it as UTC,
    which holds only if the server (and the bootstrap that wrote the first rows) ran in UTC.
    """
    return {**os.environ, "TZ": "UTC", **extra}


def executable(name: str) -> str:
    """A console script of this Python's environment (``trytond``, ``trytond-admin``)."""
    return str(Path(sys.executable).parent / name)
