"""Property: whatever order webhooks arrive in, duplicated or not, the read model converges.

A seeded Salesforce simulator runs in-process (``httpx.ASGITransport`` is the connector's
transport). Hypothesis picks a sequence of edits and deletes at the source; each change makes
one signed CDC delivery. Deliveries are processed (verify → dedupe → re-read) at random
points between the edits and in any order, and any of them may be delivered again. A re-read
reads the source when its delivery is processed but is applied later, at a random point and
in any order (re-read jobs race on several workers), so a read taken before an edit can land
after a newer one. At the end the read model must equal the source, and no webhook may have
moved a checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.tables import metadata
from readmodel.types import utcnow
from sync_jobs.connectors.salesforce.client import SalesforceClient
from sync_jobs.connectors.salesforce.connector import SalesforceConnector
from sync_jobs.pull import pull_object
from sync_jobs.refresh import refresh_records
from sync_jobs.rows import CanonicalRow
from sync_jobs.webhooks.receive import receive
from systems.salesforce.app import create_simulator
from systems.salesforce.cdc import publisher
from systems.salesforce.store import Store
from systems.webhook_sender import Delivery, WebhookSender
from tests.sync_jobs.test_refresh import checkpoints
from tests.systems.test_salesforce_simulator import SECRET, seeded_store

WEBHOOK_SECRET = "whsec-property"
EDITS_FROM = datetime(2026, 7, 1, tzinfo=UTC)
SOBJECTS = ("Account", "Contact", "Opportunity")
TABLES = {"Account": "account", "Contact": "contact", "Opportunity": "opportunity"}
EDITABLE = {"Account": "Name", "Contact": "LastName", "Opportunity": "Name"}
COLUMNS = {"account": "name", "contact": "last_name", "opportunity": "name"}

# An operation at the source: (edit | delete, sobject, which live record). Half the picks
# fall on the first two records, so one record is often changed twice and a re-read taken
# between its changes can land after a newer one.
operations = st.tuples(
    st.sampled_from(["edit", "edit", "delete"]),
    st.sampled_from(SOBJECTS),
    st.one_of(st.integers(min_value=0, max_value=1), st.integers(min_value=0, max_value=50)),
)


@dataclass
class World:
    store: Store
    connector: SalesforceConnector
    sender: WebhookSender
    engine: AsyncEngine
    reads: list[Read] = field(default_factory=list)  # read at the source, not applied yet


@dataclass(frozen=True)
class Read:
    """A re-read's answer, held back; as a connector it answers with what it read then."""

    object_type: str
    ids: Sequence[str]
    rows: list[CanonicalRow]
    system: str = "salesforce"

    async def fetch(self, object_type: str, ids: Sequence[str]) -> list[CanonicalRow]:
        return self.rows


async def reset(engine: AsyncEngine) -> None:
    """Empty every table: examples share one database (a fresh one each is too slow)."""
    async with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(delete(table))


def change(store: Store, op: tuple[str, str, int], at: datetime) -> None:
    kind, sobject, rank = op
    live = sorted(i for i, r in store.records[sobject].items() if not r["IsDeleted"])
    if not live:
        return
    record_id = live[rank % len(live)]
    if kind == "delete":
        store.delete(sobject, record_id, at)
    else:
        store.touch(sobject, record_id, {EDITABLE[sobject]: f"Edited {at:%H%M%S}"}, at)


async def deliver(world: World, delivery: Delivery, *, again: bool) -> None:
    """What the gateway and a refresh job do with one delivery, in order."""
    receipt = await receive(
        world.engine,
        "salesforce",
        delivery.body,
        secret=WEBHOOK_SECRET,
        headers=delivery.headers,
        now=utcnow(),
        tolerance_seconds=300,
    )
    assert (len(receipt.accepted), receipt.duplicates) == ((0, 1) if again else (1, 0))
    for hint in receipt.hints:
        rows = await world.connector.fetch(hint.object_type, hint.ids)
        world.reads.append(Read(hint.object_type, hint.ids, rows))


async def apply_reads(world: World, data: st.DataObject, *, every: bool) -> None:
    """Apply held re-reads (some, or ``every`` one) in a drawn order, through the refresh job."""
    order = data.draw(st.permutations(world.reads), label="re-reads applied in order")
    count = len(order) if every else data.draw(st.integers(0, len(order)), label="applied now")
    for read in order[:count]:
        await refresh_records(world.engine, read, read.object_type, read.ids)
    world.reads = list(order[count:])


async def read_model(engine: AsyncEngine) -> dict[str, dict[str, Any]]:
    state: dict[str, dict[str, Any]] = {}
    async with engine.connect() as conn:
        for table, column in COLUMNS.items():
            t = metadata.tables[table]
            rows = await conn.execute(select(t.c.source_id, t.c[column], t.c.deleted_at))
            state[table] = {i: None if gone else value for i, value, gone in rows}
    return state


def source(store: Store) -> dict[str, dict[str, Any]]:
    return {
        TABLES[s]: {
            i: None if r["IsDeleted"] else r[EDITABLE[s]] for i, r in store.records[s].items()
        }
        for s in SOBJECTS
    }


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_any_order_of_deliveries_converges_to_the_source(
    engine: AsyncEngine, data: st.DataObject
) -> None:
    await reset(engine)
    store = seeded_store(accounts=3)
    app = create_simulator(store, client_secret=SECRET)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        connector = SalesforceConnector(SalesforceClient("http://sf.test", "cg", SECRET, http))
        world = World(store, connector, WebhookSender(WEBHOOK_SECRET), engine)
        await pull_everything(world)
        before = await checkpoints(engine)
        store.listeners.append(publisher(world.sender.add))

        ops = data.draw(st.lists(operations, min_size=1, max_size=8), label="operations")
        pending: list[Delivery] = []
        delivered: list[Delivery] = []
        for step, op in enumerate(ops):
            change(store, op, EDITS_FROM + timedelta(seconds=step))
            pending += world.sender.take()
            if data.draw(st.booleans(), label="deliver now"):
                delivered += await deliver_all(world, data, pending)
                pending = []
            await apply_reads(world, data, every=False)
        delivered += await deliver_all(world, data, pending)
        repeats = data.draw(st.lists(st.sampled_from(delivered), max_size=4), label="repeats")
        for delivery in repeats:
            await deliver(world, delivery, again=True)
        await apply_reads(world, data, every=True)

    assert await read_model(engine) == source(store)
    assert await checkpoints(engine) == before


async def pull_everything(world: World) -> None:
    for object_type in world.connector.objects:
        await pull_object(world.engine, world.connector, object_type)


async def deliver_all(world: World, data: st.DataObject, pending: list[Delivery]) -> list[Delivery]:
    order = data.draw(st.permutations(pending), label="arrival order")
    for delivery in order:
        await deliver(world, delivery, again=False)
    return list(order)
