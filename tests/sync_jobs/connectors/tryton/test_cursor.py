"""The Tryton checkpoint: own and related read positions in one string."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sync_jobs.connectors.tryton.cursor import Cursor

STAMP = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def test_an_older_checkpoint_reads_as_both_positions() -> None:
    assert Cursor.parse(STAMP.isoformat()) == Cursor(STAMP, STAMP)
    assert Cursor.parse(None) == Cursor()


def test_both_positions_survive_a_round_trip() -> None:
    cursor = Cursor(STAMP, STAMP + timedelta(seconds=3))

    assert Cursor.parse(cursor.encode()) == cursor
    assert Cursor(STAMP, STAMP).encode() == STAMP.isoformat()
    assert Cursor().encode() is None
