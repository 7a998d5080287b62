"""The npm packages the Node tests use (package.json / package-lock.json here), installed with
``npm ci`` when missing or older than the lock file, so the suite needs only node and npm."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).parent
INSTALLED = HERE / "node_modules" / ".package-lock.json"  # npm writes it on every install


def node() -> str:
    """The path of ``node``, the packages installed; fails (not skips) when npm is missing."""
    found, npm = shutil.which("node"), shutil.which("npm")
    if found is None or npm is None:
        pytest.fail("node and npm are needed for the Apollo and graphql-http tests")
    lock = HERE / "package-lock.json"
    if not INSTALLED.exists() or INSTALLED.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=HERE,
            check=True,
            timeout=600,
        )
    return found
