"""The rolling content pass: a slice of the records per run, every record once a period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sync_jobs.rolling import Rolling

START = datetime(2026, 6, 30, tzinfo=UTC)


def test_consecutive_runs_take_every_record_once_in_a_period() -> None:
    rolling = Rolling(period=86_400, interval=3_600)
    ids = [str(i) for i in range(1_000)]

    slices = [rolling.due(ids, START + timedelta(hours=h)) for h in range(24)]

    assert rolling.slices == 24
    assert sum(len(s) for s in slices) == len(ids)
    assert set().union(*slices) == set(ids)
    assert rolling.due(ids, START + timedelta(hours=24)) == slices[0]  # the next period


def test_a_period_no_longer_than_the_interval_rereads_everything_each_run() -> None:
    assert Rolling(period=600, interval=3_600).due(["a", "b"], START) == {"a", "b"}
