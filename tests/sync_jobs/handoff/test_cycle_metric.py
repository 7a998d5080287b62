"""A completed handoff is observed once in ``clientgraph_handoff_cycle_seconds``."""

from __future__ import annotations

from prometheus_client import REGISTRY

from tests.sync_jobs.handoff.conftest import Sources, drive, open_deal, win

READY = {"billing_method": "fixed_fee", "start_date": "2026-07-06"}


def completed() -> float:
    return REGISTRY.get_sample_value("clientgraph_handoff_cycle_seconds_count") or 0.0


async def test_a_completed_handoff_is_observed_once(sources: Sources) -> None:
    before = completed()
    handoff_id = await win(sources, open_deal(sources), READY)

    assert await drive(sources, handoff_id) == "COMPLETED"
    assert await drive(sources, handoff_id) == "COMPLETED"  # a later sweep changes nothing
    assert completed() == before + 1
