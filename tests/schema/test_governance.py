"""`clientgraph schema check`: a breaking change ships only with its changelog row, and a
removal only after a deprecation period."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from schema.governance import check

RELEASED = '''type Query {
  """Kept."""
  a: String
  """On its way out."""
  old: String @deprecated(reason: "Use a.")
  """Still promised."""
  b: String
}
input LogTimeInput {
  workDate: String!
}
'''
SERVED = '''type Query {
  a: String
}
scalar Date
input LogTimeInput {
  workDate: Date!
}
'''
OLD_REMOVED = "| Field Query.old was removed. | 1.1 | since 1.0 | use a |\n"
HEADER = "| change | released | deprecation period | what a client does |\n|---|---|---|---|\n"


def _files(tmp_path: Path, rows: str) -> tuple[Path, Path]:
    released, changelog = tmp_path / "released.graphql", tmp_path / "changelog.md"
    released.write_text(RELEASED)
    changelog.write_text(HEADER + rows)
    return released, changelog


def test_the_served_schema_breaks_nothing_unrecorded() -> None:
    report = check()
    assert report.ok, report.problems


@pytest.mark.slow  # a process: the command line itself
def test_the_command_exits_0_when_all_is_recorded() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "clientgraph", "schema", "check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 unrecorded" in done.stdout


def test_an_unrecorded_breaking_change_fails(tmp_path: Path) -> None:
    released, changelog = _files(tmp_path, OLD_REMOVED)
    report = check(released, changelog, served=SERVED)
    assert not report.ok
    assert sorted(report.problems) == [
        "not in changelog.md: Field LogTimeInput.workDate changed type from String! to Date!.",
        "not in changelog.md: Field Query.b was removed.",
        "removed without a deprecation period: Field Query.b was removed.",
    ]


def test_recorded_changes_after_a_deprecation_pass(tmp_path: Path) -> None:
    rows = (
        OLD_REMOVED
        + "| `Field LogTimeInput.workDate changed type from String! to Date!.` | 1.1 | none | - |\n"
    )
    released, changelog = _files(tmp_path, rows)
    served = SERVED.replace("  a: String\n", "  a: String\n  b: String\n")
    report = check(released, changelog, served=served)
    assert report.ok, report.problems
    assert len(report.breaking) == 2
