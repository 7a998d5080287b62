"""Data people supply to a handoff (with ``markOpportunityWon`` or ``resumeHandoff``).

Validated like every mutation input (``Checker``: each bad field named), and stored as the
handoff's ``inputs``: plain JSON strings the readiness check reads (``sync_jobs.handoff``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from readmodel.command_targets import Col
from resolvers.commands.validation import Checker

MAX_MILESTONES = 50


def handoff_data(
    check: Checker, field: str, data: Mapping[str, Any] | None, currency: str | Col
) -> dict[str, Any]:
    """The supplied values as stored (absent ones left out); problems go to ``check``."""
    if not data:
        return {}
    out: dict[str, Any] = {}
    if data.get("billing_method") is not None:
        out["billing_method"] = str(data["billing_method"])
    if (start := check.iso_date(f"{field}.startDate", data.get("start_date"))) is not None:
        out["start_date"] = start.isoformat()
    for name, label in (("manager_name", "managerName"), ("service_line", "serviceLine")):
        if data.get(name) is not None:
            check.text(f"{field}.{label}", data[name], max_length=128, required=True)
            out[name] = data[name].strip()
    milestones = data.get("milestones")
    if milestones is not None:
        out["milestones"] = _milestones(check, f"{field}.milestones", milestones, currency)
    return out


def _milestones(
    check: Checker, field: str, items: list[Mapping[str, Any]], currency: str | Col
) -> list[dict[str, str]]:
    if len(items) > MAX_MILESTONES:
        check.add(field, f"at most {MAX_MILESTONES} milestones")
    found = []
    for n, item in enumerate(items[:MAX_MILESTONES]):
        at = f"{field}[{n}]"
        check.text(f"{at}.name", item.get("name"), max_length=255, required=True)
        due = check.iso_date(f"{at}.dueDate", item.get("due_date"))
        money = item.get("amount") or {}
        amount = check.amount(
            f"{at}.amount", money.get("amount", ""), money.get("currency", ""), expected=currency
        )
        if due is not None and amount is not None:
            found.append({"name": item["name"], "due_date": due.isoformat(), "amount": str(amount)})
    return found
