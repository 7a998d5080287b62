"""A completed handoff is observed once in ``clientgraph_handoff_cycle_seconds``."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tests.sync_jobs.handoff.conftest import Sources, drive, handoff, open_deal, win

READY = {"billing_method": "fixed_fee", "start_date": "2026-07-06"}


def completed(sample: str = "count") -> float:
    return REGISTRY.get_sample_value(f"clientgraph_handoff_cycle_seconds_{sample}") or 0.0


async def test_a_completed_handoff_is_observed_once(sources: Sources) -> None:
    before, seconds_before = completed(), completed("sum")
    handoff_id = await win(sources, open_deal(sources), READY)

    assert await drive(sources, handoff_id) == "COMPLETED"
    assert await drive(sources, handoff_id) == "COMPLETED"  # a later sweep changes nothing
    assert completed() == before + 1
    done = await handoff(sources, handoff_id)  # observed: from its opening to its completion
    cycle = (done["completed_at"] - done["created_at"]).total_seconds()
    assert completed("sum") - seconds_before == pytest.approx(cycle, abs=1e-3)
