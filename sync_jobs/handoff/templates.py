"""Service-line templates: how a won deal of each service line becomes a project.

A template names the roles to staff (with their share of the hours), a default length, and
the milestone plan a fixed fee is invoiced by. Rates are never in a template: they come from
the service line's effective rate card in the client's currency (``readiness.gather``), so
a rate change is made once, in the ERP. The service lines and roles are the synthetic firm's
(``readmodel.seed.catalog``), so seeded opportunities always find a template.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from readmodel.seed.catalog import SERVICE_LINES

BILLING_METHODS = ("time_and_materials", "fixed_fee", "milestone", "retainer", "non_billable")
FIXED_FEE_INSTALMENTS = (30, 40, 30)  # percent at start, midpoint, end (the firm's practice)


@dataclass(frozen=True)
class RoleShare:
    """A role the project needs and its share of the budget hours, in percent."""

    role: str
    percent: int


@dataclass(frozen=True)
class Template:
    """How a project of one service line is set up."""

    service_line: str
    code_prefix: str
    weeks: int
    manager_role: str
    roles: tuple[RoleShare, ...]


def _roles(*pairs: tuple[str, int]) -> tuple[RoleShare, ...]:
    shares = tuple(RoleShare(role, percent) for role, percent in pairs)
    assert sum(s.percent for s in shares) == 100
    return shares


TEMPLATES: dict[str, Template] = {
    "Strategy": Template(
        "Strategy",
        "STR",
        12,
        "Principal",
        _roles(("Partner", 10), ("Principal", 30), ("Senior Consultant", 40), ("Analyst", 20)),
    ),
    "Cloud Migration": Template(
        "Cloud Migration",
        "CLD",
        24,
        "Principal",
        _roles(("Principal", 10), ("Senior Consultant", 30), ("Engineer", 60)),
    ),
    "Data & Analytics": Template(
        "Data & Analytics",
        "DNA",
        16,
        "Senior Consultant",
        _roles(("Principal", 10), ("Senior Consultant", 30), ("Engineer", 40), ("Analyst", 20)),
    ),
    "Managed Services": Template(
        "Managed Services",
        "MSV",
        52,
        "Senior Consultant",
        _roles(("Senior Consultant", 20), ("Engineer", 50), ("Consultant", 30)),
    ),
    "Cybersecurity": Template(
        "Cybersecurity",
        "SEC",
        12,
        "Principal",
        _roles(("Principal", 20), ("Senior Consultant", 40), ("Consultant", 40)),
    ),
}
assert set(TEMPLATES) == set(SERVICE_LINES)


def template_for(service_line: str | None) -> Template | None:
    """The template of ``service_line``, or ``None`` (the handoff then waits for one)."""
    return TEMPLATES.get(service_line or "")


DEFAULT_WEEKS = 12
"""How long a deal whose service line has no template is assumed to run (forecasts)."""


def weeks_of(service_line: str | None) -> int:
    """The template length of ``service_line`` in weeks (``DEFAULT_WEEKS`` without one)."""
    template = template_for(service_line)
    return DEFAULT_WEEKS if template is None else template.weeks


def project_code(template: Template, handoff_id: int) -> str:
    """A stable project code: the service line's prefix and the handoff's number."""
    return f"{template.code_prefix}-H{handoff_id:05d}"


def end_date(template: Template, start: date) -> date:
    return start + timedelta(weeks=template.weeks)


def blended_rate_minor(template: Template, bill_rates: dict[str, int]) -> int:
    """The hourly bill rate of the template's mix of roles (minor units, rounded down)."""
    return sum(bill_rates.get(s.role, 0) * s.percent for s in template.roles) // 100


def budget_hours_x100(template: Template, sold_minor: int, bill_rates: dict[str, int]) -> int:
    """Hours (hundredths) the sold value buys at the blended rate: the project's budget."""
    rate = blended_rate_minor(template, bill_rates)
    return 0 if rate <= 0 else sold_minor * 100 // rate


def split(total_minor: int, percents: tuple[int, ...]) -> list[int]:
    """``total_minor`` split by ``percents``; the last part takes the rounding remainder, so
    the parts always add up to the total exactly."""
    parts = [total_minor * p // 100 for p in percents[:-1]]
    return [*parts, total_minor - sum(parts)]
