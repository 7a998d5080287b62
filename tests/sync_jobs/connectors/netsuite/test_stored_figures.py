"""Stored figures follow sync: a change pulled from NetSuite (a time entry's hours, an
invoice's balance) recomputes the figures of its account in the pull's own transaction, so the
very next query on the compiled path (one statement) reads the new values, equal to what the
per-field path computes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel.tables import Account as AccountRow
from readmodel.tables import AccountFigures, table_of
from readmodel.types import utcnow
from resolvers.ids import to_global_id
from sync_jobs.pull import pull_object
from tests.access.compiled import Answer, admin_paths, ask
from tests.sync_jobs.connectors.netsuite.conftest import Account
from tests.sync_jobs.connectors.netsuite.test_sync_into_read_model import pull_crm, pull_erp

QUERY = """
query StoredFigures($project: ID!, $account: ID!) {
  project(id: $project) {
    code hoursLogged costToDate { amount } budgetBurn percentComplete unbilledWip { amount }
    billed { amount } collected { amount } margin
    engagement { backlog { amount } billedToDate { amount } delivered { amount } }
  }
  account(id: $account) {
    invoices { number balance { amount } daysOverdue }
    health { score status factors { name value penalty explanation } }
  }
}
"""


async def answers(
    clients: tuple[Any, Any], variables: dict[str, Any], statements: int = 2
) -> tuple[Answer, Answer]:
    """Both paths' answers, equal; the compiled one in one statement, or two after a change
    (the response cache's check finds its answer from before the change stale: the
    counters' statement, then the plan's)."""
    per_field = await ask(clients[0], QUERY, variables)
    compiled = await ask(clients[1], QUERY, variables)
    assert compiled.body == per_field.body
    assert compiled.statements == statements, "the compiled path read stored values"
    return per_field, compiled


async def one_row(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql), params)).one()


async def test_a_pulled_change_is_in_the_stored_figures_of_the_next_query(
    engine: AsyncEngine, account: Account
) -> None:
    await pull_crm(engine, account.rows)
    await pull_erp(engine, account)
    async with engine.connect() as conn:
        accounts = await conn.execute(select(func.count()).select_from(table_of(AccountRow)))
        stored = await conn.execute(select(func.count()).select_from(table_of(AccountFigures)))
        assert stored.scalar_one() == accounts.scalar_one()  # every account, after the pulls
    entry = await one_row(
        engine,
        "SELECT t.source_id, t.project_id, p.account_id, t.hours_x100 FROM time_entry t "
        "JOIN project p ON p.id = t.project_id WHERE t.status <> 'rejected' "
        "AND p.budget_minor > 0 AND t.deleted_at IS NULL ORDER BY t.id LIMIT 1",
    )
    variables = {
        "project": to_global_id("Project", entry.project_id),
        "account": to_global_id("Account", entry.account_id),
    }
    async with admin_paths(engine, utcnow()) as clients:  # today: the pulls' date
        before, _ = await answers(clients, variables, statements=1)

        await account.patch("timebill", entry.source_id, {"hours": entry.hours_x100 / 100 + 3})
        report = await pull_object(engine, account.connector, "timebill")
        assert report.applied == 1
        after, _ = await answers(clients, variables)
        hours = [dict(a.body[0][1][0][1])["hoursLogged"] for a in (before, after)]
        assert float(hours[1]) == float(hours[0]) + 3

        invoice = await one_row(
            engine,
            "SELECT source_id, number, balance_minor FROM invoice WHERE account_id = :a "
            "AND deleted_at IS NULL ORDER BY id LIMIT 1",
            a=entry.account_id,
        )
        balance = (invoice.balance_minor + 1234) / 100
        await account.patch("invoice", invoice.source_id, {"amountRemaining": balance})
        report = await pull_object(engine, account.connector, "invoice")
        assert report.applied == 1
        latest, _ = await answers(clients, variables)
        shown = {
            dict(i)["number"]: dict(dict(i)["balance"])["amount"]
            for i in dict(latest.body[0][1][1][1])["invoices"]
        }
        assert shown[invoice.number] == f"{balance:.2f}"
