"""Processes the end-to-end tests start: free ports, and simulators on real sockets."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from systems.netsuite.m2m import Certificate

# a request that answers (with any status) once each simulator's server is up
PROBES = {
    "salesforce": "/services/oauth2/token",
    "netsuite": "/services/rest/auth/oauth2/v1/token",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def simulator(system: str, *args: str, port: int | None = None) -> Iterator[str]:
    """``python -m systems.<system> --port P ARGS`` until the block ends; yields its base URL."""
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", f"systems.{system}", "--port", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, f"{system} did not start"
            try:
                httpx.post(base + PROBES[system], timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def certificate_args(certificate: Certificate, directory: Path) -> list[str]:
    """``--certificate ID=FILE`` for the NetSuite simulator: the certificate (public half)
    written to ``directory``, as a firm uploads it."""
    path = directory / f"{certificate.certificate_id}.pem"
    path.write_text(certificate.certificate_pem)
    return ["--certificate", f"{certificate.certificate_id}={path}"]


@contextmanager
def gateway(env: dict[str, str], log: Path, port: int | None = None) -> Iterator[str]:
    """``clientgraph serve --port P`` (output to ``log``) until /healthz answers 200; yields its
    base URL and stops it when the block ends."""
    with gateway_process(env, log, port) as (base, _):
        yield base


@contextmanager
def gateway_process(
    env: dict[str, str], log: Path, port: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``gateway``, yielding its process too (to stop and continue it)."""
    port = port or free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "clientgraph", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"the gateway exited: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "the gateway did not start in 60 s"
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield base, proc
    finally:
        proc.send_signal(signal.SIGCONT)  # (a stopped one would not hear the terminate)
        proc.terminate()
        proc.wait(timeout=20)
