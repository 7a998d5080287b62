"""Bootstrapping a Tryton: the cached template, per-copy passwords, the command line."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from systems.tryton.__main__ import main
from systems.tryton.bootstrap import create, template_key

# Slow (builds and starts Tryton): `make test-fast` leaves it out.
pytestmark = pytest.mark.slow


def test_the_command_line_explains_itself() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "systems.tryton", "bootstrap", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )

    assert "--password-file" in done.stdout and "--demo-data" in done.stdout


def test_serve_refuses_a_directory_without_a_database(tmp_path: Path) -> None:
    assert main(["serve", "--dir", str(tmp_path)]) == 2


def test_the_template_key_names_what_the_build_depends_on() -> None:
    key = template_key(8, date(2026, 6, 30))

    assert key.startswith("8.2.") and "-2026-demo8-" in key
    assert template_key(0, date(2026, 6, 30)) != key
    assert template_key(8, date(2027, 1, 1)) != key


def test_a_copy_of_the_template_is_quick_and_self_contained(tmp_path: Path) -> None:
    create(tmp_path / "warm", "first", demo=8)  # builds the template if this machine has none

    built = create(tmp_path / "copy", "second", demo=8)

    assert built.seconds < 1  # copied, not built
    assert built.site.db_file.stat().st_size > 0
    assert not Path(f"{built.site.db_file}-wal").exists()
    assert "sqlite://" in built.site.config_file.read_text()
