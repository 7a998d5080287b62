"""The handoff's steps, each one ordinary command of the write path.

A step's command is built from the resolved ``Plan`` when the step starts, logged under the
key ``handoff-<id>-<step>-<attempt>`` (so every re-run of the orchestrator finds the same
command), and executed by ``apply_command`` through the owning connector's writer. Records
a step creates carry external ids derived from the handoff, not from the command, so even an
operator's retry of a step (a new command) finds the record a failed attempt may have left.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from readmodel.command_log import NewCommand, input_hash
from sync_jobs.handoff.readiness import Facts, Plan
from sync_jobs.handoff.templates import (
    FIXED_FEE_INSTALMENTS,
    Template,
    budget_hours_x100,
    end_date,
    project_code,
    split,
)


@dataclass(frozen=True)
class Step:
    """A step: its name (also its command kind), the side it writes (``"erp"`` or
    ``"crm"``, resolved per deal by ``routes.Route``), the object written."""

    name: str
    side: str
    target_object: str


STEPS: tuple[Step, ...] = (
    Step("ensure_customer", "erp", "account"),
    Step("create_project", "erp", "project"),
    Step("create_billing_schedule", "erp", "project"),
    Step("request_staffing", "erp", "assignment"),
    Step("link_project_to_opportunity", "crm", "opportunity"),
)
STEP_NAMES = tuple(s.name for s in STEPS)
BY_NAME = {s.name: s for s in STEPS}


@dataclass(frozen=True)
class Progress:
    """What earlier steps produced: the ERP customer and the project's ids."""

    handoff_id: int
    customer_id: str | None
    project_id: str | None


def command_key(handoff_id: int, step: str, attempt: int) -> str:
    return f"handoff-{handoff_id}-{step}-{attempt}"


def external_id(handoff_id: int, *parts: object) -> str:
    return "-".join(["clientgraph-handoff", str(handoff_id), *map(str, parts)])


def new_command(
    step: Step, attempt: int, facts: Facts, plan: Plan, done: Progress, now: datetime
) -> NewCommand:
    """The command of ``step`` for this handoff, ready to log."""
    payload = PAYLOADS[step.name](facts, plan, done, now)
    key = command_key(done.handoff_id, step.name, attempt)
    return NewCommand(
        kind=step.name,
        target_system=facts.route.system_of(step.side),
        target_object=step.target_object,
        target_source_id=None,
        idempotency_key=key,
        input_hash=input_hash(step.name, {"key": key}),
        payload=payload,
        correlation_id=f"handoff-{done.handoff_id}",
    )


def _money(minor: int) -> str:
    return str(Decimal(minor).scaleb(-2))


def _customer(facts: Facts, plan: Plan, done: Progress, now: datetime) -> dict[str, Any]:
    """Match by the link the read model has, else by external id (the CRM account id)."""
    a = facts.account
    return {
        "customer_id": facts.customer_source_id,
        "account_source_id": a.source_id,
        "name": a.name,
        "domain": a.domain,
        "currency": a.currency,
        "terms_days": str(a.billing_terms_days),
    }


def _project(facts: Facts, plan: Plan, done: Progress, now: datetime) -> dict[str, Any]:
    template, start = _template(plan), _start(plan)
    bill_rates = {role: rates[0] for role, rates in facts.rates.items()}
    engagement = facts.engagement
    return {
        "external_id": external_id(done.handoff_id, "project"),
        "opportunity_id": facts.opportunity.source_id,  # kept on the project: the deal's ref
        "engagement_external_id": external_id(done.handoff_id, "engagement"),
        "customer_id": _required(done.customer_id, "customer"),
        "code": project_code(template, done.handoff_id),
        "name": facts.opportunity.name,
        "currency": plan.currency,
        "billing_method": plan.billing_method,
        "budget": _money(plan.sold_minor),
        "budget_hours": _money(budget_hours_x100(template, plan.sold_minor, bill_rates)),
        "rate_card_id": facts.rate_card.source_id if facts.rate_card is not None else None,
        "engagement_id": engagement.source_id
        if engagement is not None and engagement.source_system == facts.route.erp
        else None,
        "start_date": start.isoformat(),
        "end_date": end_date(template, start).isoformat(),
        "manager_name": plan.manager_name,
        "activated_at": now.isoformat(),
    }


def _billing(facts: Facts, plan: Plan, done: Progress, now: datetime) -> dict[str, Any]:
    """Milestones (milestone billing, fixed-fee instalments) or the invoicing rule."""
    template, start, method = _template(plan), _start(plan), plan.billing_method
    if method == "milestone":
        items = [(m.name, m.due_date, m.amount_minor) for m in plan.milestones]
    elif method == "fixed_fee":
        items = _instalments(template, start, plan.sold_minor)
    else:
        items = []
    milestones = [
        {
            "external_id": external_id(done.handoff_id, "milestone", n),
            "name": name,
            "due_date": due.isoformat(),
            "amount": _money(amount),
        }
        for n, (name, due, amount) in enumerate(items, start=1)
    ]
    return {
        "project_id": _required(done.project_id, "project"),
        "project_external_id": external_id(done.handoff_id, "project"),
        "billing_method": method,
        "currency": plan.currency,
        "schedule": json.dumps(_rule(template, plan), sort_keys=True),
        "milestones": milestones,
    }


def _instalments(template: Template, start: date, sold: int) -> list[tuple[str, date, int]]:
    finish = end_date(template, start)
    dues = (start, start + (finish - start) / 2, finish)
    amounts = split(sold, FIXED_FEE_INSTALMENTS)
    count = len(FIXED_FEE_INSTALMENTS)
    pairs = enumerate(zip(dues, amounts, strict=True), start=1)
    return [(f"Instalment {n} of {count}", due, amount) for n, (due, amount) in pairs]


def _rule(template: Template, plan: Plan) -> dict[str, str]:
    """The invoicing rule the ERP keeps on the project (shown to billing clerks)."""
    method = plan.billing_method or ""
    if method == "retainer":
        months = max(1, round(template.weeks * 7 / 30))
        monthly = plan.sold_minor // months
        return {"rule": "monthly_retainer", "months": str(months), "amount": _money(monthly)}
    if method == "time_and_materials":
        return {"rule": "monthly_approved_time", "cap": _money(plan.sold_minor)}
    if method == "non_billable":
        return {"rule": "no_invoicing"}
    return {"rule": f"{method}_on_milestones"}


def _staffing(facts: Facts, plan: Plan, done: Progress, now: datetime) -> dict[str, Any]:
    """One unnamed resource request per template role, at the rate card's rates."""
    template, start = _template(plan), _start(plan)
    bill_rates = {role: rates[0] for role, rates in facts.rates.items()}
    hours = budget_hours_x100(template, plan.sold_minor, bill_rates)
    shares = split(hours, tuple(s.percent for s in template.roles))
    requests = [
        {
            "external_id": external_id(done.handoff_id, "staffing", share.role),
            "role": share.role,
            "percent": str(share.percent),  # a PSA without rates plans from its own effort
            "hours": _money(part),
            "bill_rate": _money(facts.rates.get(share.role, (0, 0))[0]),
            "cost_rate": _money(facts.rates.get(share.role, (0, 0))[1]),
        }
        for share, part in zip(template.roles, shares, strict=True)
    ]
    return {
        "project_id": _required(done.project_id, "project"),
        "project_external_id": external_id(done.handoff_id, "project"),
        "currency": plan.currency,
        "start_date": start.isoformat(),
        "end_date": end_date(template, start).isoformat(),
        "requests": requests,
    }


def _link(facts: Facts, plan: Plan, done: Progress, now: datetime) -> dict[str, Any]:
    return {
        "opportunity_id": facts.opportunity.source_id,
        "project_id": _required(done.project_id, "project"),
        "handoff_status": "COMPLETED",
    }


def _template(plan: Plan) -> Template:
    if plan.template is None:  # readiness guarantees it; a step never guesses
        raise ValueError("the plan has no template")
    return plan.template


def _start(plan: Plan) -> date:
    if plan.start_date is None:
        raise ValueError("the plan has no start date")
    return plan.start_date


def _required(value: str | None, what: str) -> str:
    if value is None:
        raise ValueError(f"the {what} step has not produced an id yet")
    return value


PAYLOADS = {
    "ensure_customer": _customer,
    "create_project": _project,
    "create_billing_schedule": _billing,
    "request_staffing": _staffing,
    "link_project_to_opportunity": _link,
}
