"""Embedded mode (no Redis): the in-process runner runs ``apply_command`` and re-schedules it
after a transient failure; commands no connector can apply fail at once, with a code."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from readmodel.command_log import CommandStatus
from readmodel.types import utcnow
from sync_jobs.dispatch import InProcessDispatcher
from sync_jobs.runner import InProcessRunner
from sync_jobs.source_state import paused_until
from tests.sync_jobs.commands.conftest import (
    Sources,
    add_command,
    at_source,
    command,
    run_once,
    run_to_the_end,
    set_command,
)
from tests.sync_jobs.commands.test_execute import log_time_payload


async def test_the_runner_retries_a_command_until_it_succeeds(sources: Sources) -> None:
    command_id = await add_command(
        sources.engine, "log_time", "netsuite", log_time_payload(sources)
    )
    sources.ns_faults.outage(times=2)
    runner = InProcessRunner(sources.deps, [], interval=3600)  # no schedule: only handed jobs
    await runner.start()
    try:
        await InProcessDispatcher(runner).enqueue("apply_command", command_id)
        for _ in range(250):  # two back-offs of at most 1 s and 2 s (full jitter)
            if (await command(sources.engine, command_id))["status"] == CommandStatus.SUCCEEDED:
                break
            await asyncio.sleep(0.02)
    finally:
        await runner.stop()

    done = await command(sources.engine, command_id)
    assert (done["status"], done["attempts"]) == ("SUCCEEDED", 3)
    assert len(at_source(sources.ns, "timebill", await command(sources.engine, command_id))) == 1


async def test_what_no_connector_can_apply_fails_with_a_code(sources: Sources) -> None:
    cases = {
        ("refund_invoice", "netsuite", "UNSUPPORTED_COMMAND"),
        ("log_time", "tryton", "NOT_CONFIGURED"),
        ("log_time", "netsuite", "INVALID_PAYLOAD"),  # hours missing
    }
    payload = {"project_id": sources.rows["project"][0]["source_id"], "person_id": "1"}
    for kind, system, code in cases:
        command_id = await add_command(sources.engine, kind, system, payload)
        assert await run_to_the_end(sources, command_id) == []
        failed = await command(sources.engine, command_id)
        assert (failed["status"], failed["last_error_code"]) == ("FAILED", code), failed
        assert failed["last_error_retryable"] is False and failed["attempts"] == 1


async def test_a_spent_quota_rests_the_source_without_spending_attempts(sources: Sources) -> None:
    deal = sources.rows["opportunity"][2]["source_id"]
    payload = {"opportunity_id": deal}
    command_id = await add_command(sources.engine, "mark_opportunity_won", "salesforce", payload)
    sources.sf_faults.fail_next(403, "REQUEST_LIMIT_EXCEEDED", retry_after=60)

    quota = await run_once(sources, command_id)
    waiting = await command(sources.engine, command_id)
    sources.sf_faults.fail_next(500, "UNTOUCHED")  # consumed only if the source is called
    resting = await run_once(sources, command_id)
    untouched = len(sources.sf_faults.queue)
    sources.sf_faults.queue.clear()
    sources.deps.clock = lambda: utcnow() + timedelta(hours=2)  # the quota has reset
    after = await run_to_the_end(sources, command_id)

    quota_pause = sources.deps.settings.sync.quota_pause_seconds
    assert isinstance(quota, float) and quota >= quota_pause
    assert (waiting["status"], waiting["attempts"], waiting["last_error_code"]) == (
        "DISPATCHED",
        0,
        "QUOTA_EXHAUSTED",
    )
    assert "REQUEST_LIMIT_EXCEEDED" in waiting["last_error_message"]
    paused = await paused_until(sources.engine, "salesforce")
    assert paused is not None and abs(paused - waiting["next_attempt_at"]) < timedelta(seconds=1)
    assert isinstance(resting, float) and 0 < resting <= quota and untouched == 1
    assert after == []
    done = await command(sources.engine, command_id)
    assert (done["status"], done["attempts"]) == ("SUCCEEDED", 1)


async def test_a_record_we_cannot_map_waits_applied_and_is_never_written_twice(
    sources: Sources,
) -> None:
    payload = log_time_payload(sources)
    job = sources.ns.records["job"][str(payload["project_id"])]
    known = job["currency"]
    job["currency"] = {"id": "99"}  # a currency added in NetSuite that we do not know yet
    command_id = await add_command(sources.engine, "log_time", "netsuite", payload, max_attempts=2)

    runs = [await run_once(sources, command_id, n) for n in range(1, 6)]
    waiting = await command(sources.engine, command_id)
    job["currency"] = known  # corrected at the source, on the project and on the entry
    for entry in at_source(sources.ns, "timebill", waiting):
        entry["custcol_cg_currency"] = known
    deferrals = await run_to_the_end(sources, command_id)

    # the write landed on the first run: the read-back is retried, no attempt is spent and
    # nothing dead-letters, however often it runs
    assert all(isinstance(run, float) and 0 < run <= 60 for run in runs)
    assert (waiting["status"], waiting["attempts"]) == ("APPLIED", 1)
    assert (waiting["last_error_code"], waiting["completed_at"]) == ("INTERNAL_ERROR", None)
    # what clients read names the kind of failure; the detail stays in the worker's log
    assert waiting["last_error_message"] == "internal error (ValueError); see the worker log"
    assert waiting["applied_at"] is not None and waiting["target_source_id"] is not None
    done = await command(sources.engine, command_id)
    assert deferrals == [] and (done["status"], done["attempts"]) == ("SUCCEEDED", 1)
    assert done["last_error_code"] is None and done["last_error_message"] is None
    assert len(at_source(sources.ns, "timebill", done)) == 1  # written once, not six times


async def test_commands_wait_unclaimed_while_their_source_rests(sources: Sources) -> None:
    """A spent quota rests Salesforce: a command accepted meanwhile is taken off the queue's
    hands (DISPATCHED) until the rest ends, and one a live worker holds is left to it; neither
    calls the source nor spends an attempt."""
    deals = [o["source_id"] for o in sources.rows["opportunity"][2:5]]
    spent, fresh, held = [
        await add_command(
            sources.engine, "mark_opportunity_won", "salesforce", {"opportunity_id": deal}
        )
        for deal in deals
    ]
    sources.sf_faults.fail_next(403, "REQUEST_LIMIT_EXCEEDED", retry_after=60)
    assert isinstance(await run_once(sources, spent), float)  # the source now rests
    paused = await paused_until(sources.engine, "salesforce")
    assert paused is not None
    live = {"lease_token": "another-worker", "lease_expires_at": utcnow() + timedelta(hours=1)}
    await set_command(sources.engine, held, CommandStatus.RUNNING, **live)
    sources.sf_faults.fail_next(500, "UNTOUCHED")  # consumed only if the source is called

    waits = await run_once(sources, fresh)
    left = await run_once(sources, held)

    assert isinstance(waits, float) and 0 < waits <= (paused - utcnow()).total_seconds() + 1
    waiting = await command(sources.engine, fresh)
    assert (waiting["status"], waiting["attempts"]) == ("DISPATCHED", 0)
    assert abs(waiting["next_attempt_at"] - paused) < timedelta(seconds=1)
    assert left == {"command": held, "status": "RUNNING", "skipped": True}
    assert (await command(sources.engine, held))["lease_token"] == "another-worker"
    assert len(sources.sf_faults.queue) == 1  # the source was not called
