"""Each attempt of ``apply_command`` is counted by outcome; final ones by attempts taken."""

from __future__ import annotations

import pytest
from arq import Retry
from prometheus_client import REGISTRY

from sync_jobs.commands.attempt_metrics import counted_attempt

KIND = "attempt_metrics_probe"


def attempts(outcome: str) -> float:
    labels = {"kind": KIND, "outcome": outcome}
    return REGISTRY.get_sample_value("clientgraph_command_attempts_total", labels) or 0.0


def finished(outcome: str) -> float:
    labels = {"kind": KIND, "outcome": outcome}
    return REGISTRY.get_sample_value("clientgraph_command_attempts_to_finish_sum", labels) or 0.0


async def test_outcomes_retries_and_attempts_to_finish_are_counted() -> None:
    before = {o: attempts(o) for o in ("SUCCEEDED", "DEAD_LETTERED", "RETRY", "DEFERRED")}
    async with counted_attempt(KIND, 1) as count:
        count({"status": "SUCCEEDED"})
    async with counted_attempt(KIND, 8) as count:
        count({"status": "DEAD_LETTERED"})
    async with counted_attempt(KIND, 2) as count:
        count({"status": "MOVED_ON", "skipped": True})
    with pytest.raises(Retry):
        async with counted_attempt(KIND, 3):
            raise Retry(defer=1)

    after = {o: attempts(o) for o in before}
    assert {o: after[o] - before[o] for o in before} == {
        "SUCCEEDED": 1, "DEAD_LETTERED": 1, "RETRY": 1, "DEFERRED": 1,
    }
    assert finished("DEAD_LETTERED") >= 8
