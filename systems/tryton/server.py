"""Run ``trytond`` on a site as a child process: start on a free port, wait, stop cleanly."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from systems.tryton.site import Site, executable, tryton_env

START_TIMEOUT = 60.0  # seconds: loading every module's pool takes a few seconds
STOP_TIMEOUT = 10.0


class ServerError(Exception):
    """trytond did not come up; the message holds the tail of its log."""


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TrytonServer:
    """``TZ=UTC trytond -c <conf> -d <db>`` serving ``site`` on ``127.0.0.1:port``."""

    def __init__(self, site: Site, port: int | None = None) -> None:
        self.site = site
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The JSON-RPC endpoint of the database (``POST`` calls here)."""
        return f"http://127.0.0.1:{self.port}/{self.site.database}/rpc/"

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start the server and return once it answers JSON-RPC."""
        self.site.write_config(self.port)
        command = [executable("trytond"), "-c", str(self.site.config_file)]
        with self.site.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                [*command, "-d", self.site.database],
                env=tryton_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready(timeout)

    def stop(self) -> None:
        """Terminate (SIGTERM lets it close SQLite cleanly); kill if it hangs."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> TrytonServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def wait(self) -> int:
        """Block until the server exits (the ``serve`` command)."""
        assert self._process is not None
        return self._process.wait()

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise ServerError(f"trytond exited {self._process.returncode}:\n{self._tail()}")
            if self._answers():
                return
            time.sleep(0.2)
        self.stop()
        raise ServerError(f"trytond did not answer within {timeout:.0f} s:\n{self._tail()}")

    def _answers(self) -> bool:
        """Any HTTP answer from the database's endpoint (401 without a session) means it is up:
        trytond loads the database given by ``-d`` before it listens."""
        body = json.dumps({"id": 0, "method": "common.server.version", "params": []}).encode()
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def _tail(self) -> str:
        return self.site.log_file.read_text(errors="replace")[-2000:]


@contextmanager
def running(site: Site, port: int | None = None) -> Iterator[TrytonServer]:
    """A started server on ``site`` for the duration of the block."""
    server = TrytonServer(site, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()
