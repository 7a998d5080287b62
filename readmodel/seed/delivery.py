"""Delivery: projects with their team, time, milestones and change orders."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from readmodel.enums import (
    AssignmentStatus,
    ChangeOrderStatus,
    MilestoneStatus,
    ProjectStatus,
)
from readmodel.seed.billing import bill_project
from readmodel.seed.catalog import Catalog
from readmodel.seed.context import Row, SeedContext
from readmodel.seed.names import OWNERS, PROJECT_WORDS
from readmodel.seed.timesheets import loggable_hours_x100, plant, time_entries

MILESTONE_NAMES = ("Discovery", "Design", "Build", "Test", "Go-live", "Handover")


def add_projects(
    ctx: SeedContext, catalog: Catalog, account: Row, engagement: Row, line: str, method: str
) -> None:
    """1–3 projects sharing the engagement's sold value."""
    count = ctx.rng.choices((1, 2, 3), (50, 30, 20))[0]
    shares = [ctx.rng.randint(2, 5) for _ in range(count)]
    for share in shares:
        budget = engagement["sold_value_minor"] * share // sum(shares)
        own_method = "non_billable" if ctx.rng.random() < 0.05 else method
        _project(ctx, catalog, account, engagement, line, own_method, budget)


def _status(ctx: SeedContext, start: date, end: date) -> ProjectStatus:
    if start > ctx.today:
        return ProjectStatus.SETUP
    if end < ctx.today:
        return (
            ProjectStatus.CLOSED
            if end < ctx.today - timedelta(days=45)
            else (ProjectStatus.COMPLETED)
        )
    return ProjectStatus.ON_HOLD if ctx.rng.random() < 0.1 else ProjectStatus.ACTIVE


def _project(
    ctx: SeedContext,
    catalog: Catalog,
    account: Row,
    engagement: Row,
    line: str,
    method: str,
    budget: int,
) -> None:
    rng = ctx.rng
    pid = ctx.new_id("project")
    cur = account["currency"]
    start = engagement["start_date"] + timedelta(days=rng.randint(0, 20))
    end = engagement["end_date"]
    status = _status(ctx, start, end)
    team = rng.sample(catalog.people, rng.randint(1, 3))
    discount = rng.choice((100, 100, 100, 100, 95, 90, 85))
    avg_rate = sum(catalog.rates[(cur, role)].bill for _, role in team) // len(team)
    project = ctx.add(
        "project",
        {
            **ctx.lineage("project", pid, "netsuite", min(start, ctx.today)),
            "engagement_id": engagement["id"],
            "account_id": account["id"],
            "code": f"PRJ-{pid:06d}",
            "name": f"{line} {rng.choice(PROJECT_WORDS)}",
            "status": status.value,
            "billing_method": method,
            "currency": cur,
            "budget_minor": budget,
            "budget_hours_x100": budget * 100 // avg_rate,
            "etc_cost_minor": 0,
            "rate_card_id": catalog.rate_cards[(line, cur, discount)],
            "start_date": start,
            "end_date": end,
            "manager_name": rng.choice(OWNERS),
            "activated_at": None
            if status is ProjectStatus.SETUP
            else datetime.combine(start, time(9), UTC),
        },
    )
    for person_id, role in team:
        _assignment(ctx, catalog, project, (person_id, role, len(team)), status, discount)
    progress = _progress(ctx, start, end)
    entries = time_entries(ctx, catalog, project, team, discount, progress)
    plant(ctx, catalog, project, team, discount)
    cost = sum(e["hours_x100"] * e["cost_rate_minor"] for e in entries) // 100
    if status in (ProjectStatus.ACTIVE, ProjectStatus.ON_HOLD):
        project["etc_cost_minor"] = cost * (100 - progress) // max(progress, 5)
    elif status is ProjectStatus.SETUP:
        project["etc_cost_minor"] = budget * 45 // 100
    milestones = _milestones(ctx, project) if method == "milestone" else []
    if status is not ProjectStatus.SETUP and rng.random() < 0.25:
        for _ in range(rng.randint(1, 2)):
            _change_order(ctx, project)
    bill_project(ctx, account, project, entries, milestones)


def _progress(ctx: SeedContext, start: date, end: date) -> int:
    """Percent of the schedule elapsed (0–100)."""
    if ctx.today <= start:
        return 0
    if ctx.today >= end:
        return 100
    return (ctx.today - start).days * 100 // max((end - start).days, 1)


def _assignment(
    ctx: SeedContext,
    catalog: Catalog,
    project: Row,
    member: tuple[int, str, int],
    status: ProjectStatus,
    discount: int,
) -> None:
    """``member``: (person id, role, team size): the hours the team will log, shared."""
    person_id, role, team_size = member
    aid = ctx.new_id("assignment")
    rates = catalog.rates[(project["currency"], role)]
    state = {
        ProjectStatus.SETUP: AssignmentStatus.REQUESTED
        if ctx.rng.random() < 0.5
        else AssignmentStatus.BOOKED,
        ProjectStatus.ACTIVE: AssignmentStatus.ACTIVE,
        ProjectStatus.ON_HOLD: AssignmentStatus.ACTIVE,
    }.get(status, AssignmentStatus.ENDED)
    ctx.add(
        "assignment",
        {
            **ctx.lineage("assignment", aid, "netsuite", min(project["start_date"], ctx.today)),
            "project_id": project["id"],
            "person_id": person_id,
            "role": role,
            "scheduled_hours_x100": loggable_hours_x100(project) // team_size,  # the plan
            "bill_rate_minor": rates.bill * discount // 100,
            "cost_rate_minor": rates.cost,
            "currency": project["currency"],
            "start_date": project["start_date"],
            "end_date": project["end_date"],
            "status": state.value,
        },
    )


def _milestones(ctx: SeedContext, project: Row) -> list[Row]:
    rng = ctx.rng
    count = rng.randint(3, 5)
    span = max((project["end_date"] - project["start_date"]).days, count)
    amounts = [project["budget_minor"] // count] * count
    amounts[-1] += project["budget_minor"] - sum(amounts)
    out = []
    for i, amount in enumerate(amounts, start=1):
        due = project["start_date"] + timedelta(days=span * i // count)
        status, completed = _milestone_state(ctx, due)
        mid = ctx.new_id("milestone")
        out.append(
            ctx.add(
                "milestone",
                {
                    **ctx.lineage("milestone", mid, "netsuite", min(completed or due, ctx.today)),
                    "project_id": project["id"],
                    "name": f"Milestone {i}: {rng.choice(MILESTONE_NAMES)}",
                    "due_date": due,
                    "amount_minor": amount,
                    "currency": project["currency"],
                    "completed_at": None
                    if completed is None
                    else datetime.combine(completed, time(16), UTC),
                    "status": status.value,
                },
            )
        )
    return out


def _milestone_state(ctx: SeedContext, due: date) -> tuple[MilestoneStatus, date | None]:
    roll = ctx.rng.random()
    if due > ctx.today:
        return (
            (MilestoneStatus.COMPLETED, ctx.today)
            if roll < 0.05
            else (MilestoneStatus.PLANNED, None)
        )
    done = min(due + timedelta(days=ctx.rng.randint(-5, 10)), ctx.today)
    if roll < 0.65:
        return MilestoneStatus.INVOICED, done
    if roll < 0.75:
        return MilestoneStatus.APPROVED, done
    if roll < 0.83:
        return MilestoneStatus.COMPLETED, done
    return MilestoneStatus.PLANNED, None  # slipped: past due, not done


def _change_order(ctx: SeedContext, project: Row) -> None:
    rng = ctx.rng
    cid = ctx.new_id("change_order")
    status = rng.choices(list(ChangeOrderStatus), (40, 20, 15, 25))[0]
    submitted = max(project["start_date"], ctx.days_ago(1, 90))
    ctx.add(
        "change_order",
        {
            **ctx.lineage("change_order", cid, "netsuite", submitted),
            "project_id": project["id"],
            "budget_delta_minor": project["budget_minor"] * rng.randint(5, 25) // 100,
            "hours_delta_x100": project["budget_hours_x100"] * rng.randint(5, 25) // 100,
            "days_delta": rng.choice((0, 14, 30)),
            "currency": project["currency"],
            "reason": rng.choice(
                ("Scope extension", "Additional integration", "Timeline shift", "New workstream")
            ),
            "status": status.value,
            "submitted_at": ctx.stamp(submitted),
            "decided_at": None
            if status is ChangeOrderStatus.SUBMITTED
            else ctx.stamp(min(submitted + timedelta(days=7), ctx.today)),
        },
    )
