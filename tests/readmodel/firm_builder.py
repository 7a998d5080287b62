"""A tiny hand-made firm for the figures tests, built with Core inserts.

``FirmBuilder`` fills the lineage columns every row needs (source system, id, version, sync
time) and sensible defaults, so a test states only what matters to its figures. ``build_sample``
builds the firm whose every figure docs/formulas.md works out by hand.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel

from readmodel import tables

TODAY = date(2026, 6, 30)
PERIOD = (date(2026, 6, 1), date(2026, 6, 30))
SYNCED = datetime(2026, 6, 30, 6, 0, tzinfo=UTC)
_SOURCE_IDS = itertools.count(1)  # unique across builders, so one database can hold two firms


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    """A UTC time on ``day``."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


DEFAULTS: dict[type[SQLModel], dict[str, Any]] = {
    tables.Account: {"currency": "EUR", "status": "active", "updated_at": SYNCED},
    tables.Person: {"role": "consultant"},
    tables.Opportunity: {
        "name": "Deal",
        "stage": "proposal",
        "probability": 50,
        "currency": "EUR",
        "close_date": TODAY,
    },
    tables.Engagement: {
        "name": "SOW",
        "billing_method": "time_and_materials",
        "currency": "EUR",
        "start_date": date(2026, 1, 1),
        "status": "active",
    },
    tables.Project: {
        "status": "active",
        "currency": "EUR",
        "budget_minor": 0,
        "budget_hours_x100": 0,
        "start_date": date(2026, 1, 1),
    },
    tables.TimeEntry: {
        "role": "consultant",
        "work_date": date(2026, 6, 10),
        "bill_rate_minor": 0,
        "standard_rate_minor": 0,
        "cost_rate_minor": 0,
        "currency": "EUR",
    },
    tables.Milestone: {"name": "Milestone", "currency": "EUR"},
    tables.ChangeOrder: {"currency": "EUR", "reason": "Scope change"},
    tables.Invoice: {
        "currency": "EUR",
        "status": "posted",
        "issue_date": date(2026, 6, 1),
        "due_date": date(2026, 7, 1),
    },
    tables.Payment: {"currency": "EUR", "status": "applied"},
}
"""What a row gets unless the test says otherwise (required columns a test rarely cares about)."""


class FirmBuilder:
    """Insert canonical rows with lineage defaults; each method returns the new row's id."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, model: type[SQLModel], *, deleted: bool = False, **values: Any) -> int:
        """Insert one row of ``model`` over its ``DEFAULTS``; ``deleted=True`` soft-deletes it."""
        table = tables.table_of(model)
        row = {
            "source_system": "tryton",
            "source_id": f"{table.name}-{next(_SOURCE_IDS)}",
            "source_version": SYNCED,
            "synced_at": SYNCED,
            "deleted_at": SYNCED if deleted else None,
            **DEFAULTS.get(model, {}),
            **values,
        }
        result = await self.conn.execute(insert(table).values(row))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    async def account(self, name: str, **kw: Any) -> int:
        return await self.add(tables.Account, name=name, **kw)

    async def person(self, name: str, **kw: Any) -> int:
        return await self.add(tables.Person, name=name, **kw)

    async def opportunity(self, account_id: int, amount_minor: int, **kw: Any) -> int:
        return await self.add(
            tables.Opportunity, account_id=account_id, amount_minor=amount_minor, **kw
        )

    async def engagement(self, account_id: int, sold_value_minor: int, **kw: Any) -> int:
        return await self.add(
            tables.Engagement, account_id=account_id, sold_value_minor=sold_value_minor, **kw
        )

    async def project(self, account_id: int, code: str, billing_method: str, **kw: Any) -> int:
        return await self.add(
            tables.Project,
            account_id=account_id,
            code=code,
            name=code,
            billing_method=billing_method,
            **kw,
        )

    async def time(
        self, project_id: int, person_id: int, hours_x100: int, status: str, **kw: Any
    ) -> int:
        return await self.add(
            tables.TimeEntry,
            project_id=project_id,
            person_id=person_id,
            hours_x100=hours_x100,
            status=status,
            **kw,
        )

    async def milestone(
        self, project_id: int, amount_minor: int, status: str, due_date: date, **kw: Any
    ) -> int:
        return await self.add(
            tables.Milestone,
            project_id=project_id,
            amount_minor=amount_minor,
            status=status,
            due_date=due_date,
            **kw,
        )

    async def change_order(
        self, project_id: int, status: str, submitted_at: datetime, **kw: Any
    ) -> int:
        return await self.add(
            tables.ChangeOrder,
            project_id=project_id,
            status=status,
            submitted_at=submitted_at,
            **kw,
        )

    async def invoice(
        self, account_id: int, number: str, total_minor: int, balance_minor: int, **kw: Any
    ) -> int:
        return await self.add(
            tables.Invoice,
            account_id=account_id,
            number=number,
            total_minor=total_minor,
            balance_minor=balance_minor,
            **kw,
        )

    async def payment(
        self, invoice_id: int, account_id: int, amount_minor: int, received_on: date, **kw: Any
    ) -> int:
        return await self.add(
            tables.Payment,
            invoice_id=invoice_id,
            account_id=account_id,
            amount_minor=amount_minor,
            received_on=received_on,
            **kw,
        )


async def build(engine: AsyncEngine, recipe: Any) -> dict[str, Any]:
    """Run ``recipe(builder, ids)`` in one transaction; return the ids it recorded by label."""
    ids: dict[str, Any] = {}
    async with engine.begin() as conn:
        await recipe(FirmBuilder(conn), ids)
    return ids


# --- The sample firm of docs/formulas.md ---------------------------------------------------
# Money in minor units (cents), hours in hundredths. Labels: accounts "acme", "beta", "idle",
# "gone"; engagements "E1"…"E8"; projects "T" (time & materials), "F" (fixed fee),
# "M" (milestone), "R" (retainer), "N" (non-billable), "X" (soft-deleted), "B1" (beta's).

D = date


async def sample_firm(b: FirmBuilder, ids: dict[str, int]) -> None:
    """The worked example of docs/formulas.md: two client accounts, five billing methods."""
    for step in (_people, _crm, _engagements, _projects, _invoices, _time, _milestones):
        await step(b, ids)


async def _people(b: FirmBuilder, ids: dict[str, int]) -> None:
    ids["ada"] = await b.person("Ada", weekly_capacity_hours_x100=4000)
    ids["ben"] = await b.person("Ben", weekly_capacity_hours_x100=3200)
    await b.person("Cy", weekly_capacity_hours_x100=4000, active=False)
    await b.person("Dee", weekly_capacity_hours_x100=4000, deleted=True)


async def _crm(b: FirmBuilder, ids: dict[str, int]) -> None:
    acme = ids["acme"] = await b.account("Acme")
    beta = ids["beta"] = await b.account("Beta", parent_id=acme)
    ids["idle"] = await b.account("Idle")
    ids["gone"] = await b.account("Gone", deleted=True)
    won = {"is_won": True, "is_closed": True, "stage": "closed_won", "probability": 100}
    await b.opportunity(acme, 5_000_000, close_date=D(2026, 6, 15), **won)
    lost = {"is_closed": True, "stage": "closed_lost", "probability": 0}
    await b.opportunity(acme, 1_000_000, close_date=D(2026, 6, 20), **lost)
    await b.opportunity(acme, 700_000, close_date=D(2026, 5, 15), **won)
    await b.opportunity(acme, 9_999_900, deleted=True)
    await b.opportunity(beta, 2_000_000, probability=25)
    await b.opportunity(beta, 33_333, probability=33, currency="USD")
    await b.opportunity(beta, 100_000, close_date=D(2026, 6, 30), currency="USD", **won)


async def _engagements(b: FirmBuilder, ids: dict[str, int]) -> None:
    acme, beta = ids["acme"], ids["beta"]
    ids["E1"] = await b.engagement(acme, 5_000_000, end_date=D(2026, 8, 15))
    ids["E2"] = await b.engagement(
        acme, 1_000_000, billing_method="fixed_fee", status="signed", end_date=D(2026, 12, 31)
    )
    ids["E3"] = await b.engagement(
        acme, 3_000_000, billing_method="milestone", end_date=D(2026, 7, 31)
    )
    ids["E5"] = await b.engagement(acme, 500_000, status="closed", end_date=D(2026, 7, 1))
    ids["E6"] = await b.engagement(acme, 500_000, status="draft")
    ids["E8"] = await b.engagement(acme, 800_000, end_date=D(2026, 7, 5), deleted=True)
    ids["E4"] = await b.engagement(beta, 100_000, end_date=D(2026, 8, 1))
    ids["E7"] = await b.engagement(beta, 250_000, currency="USD", status="signed")


async def _projects(b: FirmBuilder, ids: dict[str, int]) -> None:
    acme = ids["acme"]
    budget = {"budget_minor": 1_000_000, "budget_hours_x100": 10_000}
    ids["T"] = await b.project(
        acme, "PRJ-T", "time_and_materials", engagement_id=ids["E1"], etc_cost_minor=200_000,
        **budget,
    )  # fmt: skip
    ids["F"] = await b.project(
        acme, "PRJ-F", "fixed_fee", engagement_id=ids["E2"], etc_cost_minor=2_000_000, **budget
    )
    ids["M"] = await b.project(
        acme, "PRJ-M", "milestone", engagement_id=ids["E3"], budget_minor=3_000_000
    )
    ids["R"] = await b.project(
        acme, "PRJ-R", "retainer", status="completed", budget_minor=500_000,
        budget_hours_x100=2_000,
    )  # fmt: skip
    ids["N"] = await b.project(acme, "PRJ-N", "non_billable")
    ids["X"] = await b.project(
        acme, "PRJ-X", "time_and_materials", engagement_id=ids["E1"], deleted=True, **budget
    )
    ids["B1"] = await b.project(
        ids["beta"], "PRJ-B1", "time_and_materials", engagement_id=ids["E4"],
        budget_minor=200_000, budget_hours_x100=2_000,
    )  # fmt: skip


async def _invoices(b: FirmBuilder, ids: dict[str, int]) -> None:
    acme, beta, T = ids["acme"], ids["beta"], ids["T"]
    ids["INV-1"] = await b.invoice(
        acme, "INV-1", 300_000, 100_000, project_id=T, status="partially_paid",
        issue_date=D(2026, 6, 6), due_date=D(2026, 6, 20),
    )  # fmt: skip
    ids["INV-2"] = await b.invoice(
        acme, "INV-2", 50_000, 50_000, project_id=T, status="draft", issue_date=D(2026, 6, 25)
    )
    inv3 = await b.invoice(
        acme, "INV-3", 150_000, 0, project_id=ids["F"], status="paid",
        issue_date=D(2026, 5, 15), due_date=D(2026, 6, 14),
    )  # fmt: skip
    inv4 = await b.invoice(
        acme, "INV-4", 1_000_000, 1_000_000, project_id=ids["M"],
        issue_date=D(2026, 5, 1), due_date=D(2026, 5, 31),
    )  # fmt: skip
    inv5 = await b.invoice(
        acme, "INV-5", 100_000, 0, project_id=ids["R"], status="paid",
        issue_date=D(2026, 5, 10), due_date=D(2026, 6, 9),
    )  # fmt: skip
    ids["INV-5"] = inv5
    await b.invoice(
        acme, "INV-6", 2_900_000, 2_900_000, issue_date=D(2026, 6, 20), due_date=D(2026, 7, 20)
    )
    inv7 = await b.invoice(
        acme, "INV-7", 5_000_000, 5_000_000, project_id=T, deleted=True,
        issue_date=D(2026, 5, 1), due_date=D(2026, 5, 15),
    )  # fmt: skip
    await b.invoice(
        acme, "INV-8", 200_000, 200_000, status="void",
        issue_date=D(2026, 6, 2), due_date=D(2026, 6, 10),
    )  # fmt: skip
    await b.invoice(beta, "INV-9", 100_000, 100_000, issue_date=D(2026, 6, 15))
    await b.invoice(
        beta, "INV-10", 50_000, 50_000, currency="USD",
        issue_date=D(2026, 5, 26), due_date=D(2026, 6, 25),
    )  # fmt: skip
    await b.payment(ids["INV-1"], acme, 200_000, D(2026, 6, 25))
    await b.payment(inv3, acme, 150_000, D(2026, 6, 10))
    await b.payment(inv5, acme, 100_000, D(2026, 5, 20))
    await b.payment(inv4, acme, 500_000, D(2026, 6, 20), deleted=True)
    await b.payment(inv7, acme, 100_000, D(2026, 6, 12))


async def _time(b: FirmBuilder, ids: dict[str, int]) -> None:
    ada, ben, T, N, X = ids["ada"], ids["ben"], ids["T"], ids["N"], ids["X"]
    tm = {"bill_rate_minor": 15_000, "standard_rate_minor": 16_000, "cost_rate_minor": 8_000}
    await b.time(T, ada, 1_000, "approved", **(tm | {"cost_rate_minor": 9_000}))
    await b.time(T, ada, 2_000, "invoiced", invoice_id=ids["INV-1"], work_date=D(2026, 6, 5), **tm)
    await b.time(
        T, ada, 525, "submitted", work_date=D(2026, 5, 29), submitted_at=at(D(2026, 6, 1), 9),
        **tm,
    )  # fmt: skip
    await b.time(T, ada, 400, "draft", billable=False, work_date=D(2026, 6, 12), **tm)
    await b.time(T, ada, 800, "rejected", work_date=D(2026, 6, 15), **tm)
    await b.time(T, ada, 300, "approved", work_date=D(2026, 6, 16), deleted=True, **tm)
    await b.time(T, ada, 200, "approved", billable=False, work_date=D(2026, 6, 17), **tm)
    await b.time(T, ada, 100, "approved", invoice_id=ids["INV-2"], work_date=D(2026, 6, 20), **tm)
    fixed = tm | {"cost_rate_minor": 10_000}
    await b.time(ids["F"], ada, 3_000, "approved", work_date=D(2026, 5, 20), **fixed)
    await b.time(ids["F"], ada, 2_000, "approved", work_date=D(2026, 6, 8), **fixed)
    await b.time(ids["M"], ada, 4_000, "approved", work_date=D(2026, 6, 3), **fixed)
    rt = {"bill_rate_minor": 10_000, "standard_rate_minor": 12_000, "cost_rate_minor": 5_000}
    await b.time(
        ids["R"], ben, 1_000, "invoiced", invoice_id=ids["INV-5"], work_date=D(2026, 6, 2), **rt
    )
    await b.time(ids["R"], ben, 500, "approved", work_date=D(2026, 5, 25), **rt)
    internal = {"billable": False, "cost_rate_minor": 5_000, "work_date": D(2026, 6, 12)}
    await b.time(N, ben, 600, "approved", **internal)
    await b.time(N, ben, 300, "submitted", submitted_at=at(D(2026, 6, 15), 23, 59), **internal)
    await b.time(N, ben, 200, "submitted", submitted_at=at(D(2026, 6, 16), 0), **internal)
    await b.time(N, ben, 100, "submitted", **internal)
    await b.time(N, ben, 700, "submitted", submitted_at=at(D(2026, 5, 1)), deleted=True)
    await b.time(X, ada, 10_000, "approved", **tm)
    await b.time(X, ada, 900, "submitted", submitted_at=at(D(2026, 5, 1)), **tm)
    await b.time(
        ids["B1"], ben, 1_200, "approved", work_date=D(2026, 6, 22),
        **(rt | {"standard_rate_minor": 10_000}),
    )  # fmt: skip


async def _milestones(b: FirmBuilder, ids: dict[str, int]) -> None:
    M = ids["M"]
    await b.milestone(M, 1_000_000, "invoiced", D(2026, 4, 30))
    await b.milestone(M, 800_000, "approved", D(2026, 5, 31))
    await b.milestone(M, 500_000, "completed", D(2026, 6, 15))
    await b.milestone(M, 400_000, "planned", D(2026, 6, 1))
    await b.milestone(M, 300_000, "planned", D(2026, 6, 20))
    await b.milestone(M, 200_000, "planned", D(2026, 7, 15))
    await b.milestone(M, 100_000, "completed", D(2026, 6, 10), deleted=True)
    await b.milestone(M, 100_000, "planned", D(2026, 5, 1), deleted=True)
    await b.milestone(ids["X"], 100_000, "planned", D(2026, 6, 1))
    await b.milestone(ids["T"], 0, "planned", TODAY)
    await b.change_order(ids["T"], "submitted", at(D(2026, 6, 10)))
    await b.change_order(ids["T"], "approved", at(D(2026, 6, 1)))
    await b.change_order(ids["T"], "submitted", at(D(2026, 5, 1)), deleted=True)
    await b.change_order(ids["F"], "submitted", at(D(2026, 5, 20)))
    await b.change_order(ids["X"], "submitted", at(D(2026, 5, 1)))
