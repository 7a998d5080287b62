"""Profile the gateway under load with py-spy and say where its CPU time goes.

py-spy samples the running gateway (no code change, no restart) while wrk drives one workload;
the collapsed stacks are folded into: the top frames by own time and by inclusive time, own
time by package, and inclusive time under the parts of the request path we care about.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
SITE = re.compile(r"(?:site|dist)-packages/(?P<pkg>[^/]+)")

# Inclusive time under these parts of the path (a sample counts once per part it passes).
PARTS: dict[str, tuple[str, ...]] = {
    "GraphQL execution (graphql-core + strawberry, incl. resolvers below)": (
        "/graphql/execution/",
    ),
    "our resolvers and types (schema/, resolvers/)": ("/schema/", "/resolvers/"),
    "figures and health SQL (readmodel/figures/)": ("/readmodel/figures/",),
    "DataLoader batches (resolvers/dataloaders.py)": ("/resolvers/dataloaders.py",),
    "SQLAlchemy (compile, execute, result rows, pool)": ("/sqlalchemy/",),
    "asyncpg driver (protocol, decode)": ("/asyncpg/",),
    "response JSON encoding (json)": ("/json/encoder.py", "/json/__init__.py", "orjson"),
    "parse + validate (graphql-core)": ("/graphql/language/", "/graphql/validation/"),
    "HTTP (uvicorn, starlette)": ("/uvicorn/", "/starlette/"),
    "new PostgreSQL connections (asyncpg connect, TLS handshake)": ("/asyncpg/connect_utils.py",),
}


def py_spy() -> str:
    """The py-spy next to this Python (make bench installs it into the venv)."""
    local = Path(sys.executable).parent / "py-spy"
    found = str(local) if local.exists() else shutil.which("py-spy")
    if not found:
        raise SystemExit("py-spy is missing: pip install py-spy (make bench does)")
    return found


class Recording:
    """``py-spy record`` of ``pid`` for ``seconds``, in a thread while the load runs."""

    def __init__(self, pid: int, seconds: int, rate: int = 200) -> None:
        self.raw = Path(tempfile.mkstemp(suffix=".collapsed")[1])
        cmd = [
            py_spy(), "record", "--pid", str(pid), "--duration", str(seconds),
            "--rate", str(rate), "--format", "raw", "--nonblocking", "--gil",
            "--full-filenames", "--output", str(self.raw),
        ]  # fmt: skip
        self._thread = threading.Thread(target=self._run, args=(cmd,))
        self.error: str | None = None
        self._thread.start()

    def _run(self, cmd: list[str]) -> None:
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            self.error = out.stderr.strip()[-500:]

    def stacks(self) -> Counter[tuple[str, ...]]:
        self._thread.join()
        if self.error:
            raise SystemExit(f"py-spy failed: {self.error}")
        stacks: Counter[tuple[str, ...]] = Counter()
        for line in self.raw.read_text().splitlines():
            frames, _, count = line.rpartition(" ")
            if frames:
                stacks[tuple(frames.split(";"))] += int(count)
        self.raw.unlink(missing_ok=True)
        return stacks


def summarise(stacks: Counter[tuple[str, ...]]) -> dict[str, Any]:
    total = sum(stacks.values()) or 1
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    parts: Counter[str] = Counter()
    for frames, n in stacks.items():
        own[_short(frames[-1])] += n
        packages[_package(frames[-1])] += n
        for name in {_short(f) for f in frames}:
            inclusive[name] += n
        for part, needles in PARTS.items():
            if any(needle in f for f in frames for needle in needles):
                parts[part] += n

    def share(counter: Counter[str], top: int) -> list[tuple[str, float]]:
        return [(k, round(100 * v / total, 1)) for k, v in counter.most_common(top)]

    return {
        "samples": total,
        "parts_percent": dict(share(parts, len(PARTS))),
        "own_by_package_percent": dict(share(packages, 15)),
        "top_own": share(own, 30),
        "top_inclusive": share(inclusive, 40),
    }


def write(summary: dict[str, Any], path: Path, title: str) -> None:
    lines = [title, f"samples: {summary['samples']} (GIL-holding samples only, py-spy --gil)", ""]
    for heading, key in (
        ("inclusive time under parts of the request path (overlapping)", "parts_percent"),
        ("own time by package", "own_by_package_percent"),
    ):
        lines += [f"## {heading}", *(f"{v:6.1f}%  {k}" for k, v in summary[key].items()), ""]
    for heading, key in (
        ("top frames by own time", "top_own"),
        ("top frames, inclusive", "top_inclusive"),
    ):
        lines += [f"## {heading}", *(f"{v:6.1f}%  {k}" for k, v in summary[key]), ""]
    path.write_text("\n".join(lines))


def _short(frame: str) -> str:
    m = FRAME.match(frame)
    if not m:
        return frame
    file = m["file"]
    site = SITE.search(file)
    # site-packages/pkg/… → pkg/…; the stdlib and this repository relative to their roots
    file = (
        file[site.start("pkg") :] if site else re.sub(r"^.*/(?:lib/python[\d.]+|main)/", "", file)
    )
    return f"{m['func']} ({file}{':' + m['line'] if m['line'] else ''})"


def _package(frame: str) -> str:
    m = FRAME.match(frame)
    file = m["file"] if m else frame
    site = SITE.search(file)
    if site:
        return site["pkg"]
    if "/lib/python" in file:
        return "stdlib: " + file.rsplit("/", 1)[-1]
    parts = re.sub(r"^.*/main/", "", file).split("/")
    return parts[0] if len(parts) > 1 else file
