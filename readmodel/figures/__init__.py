"""Every derived figure of the read model, computed in SQL in batches.

Each public function takes an ``AsyncConnection`` and a batch of ids (or a period) and runs a
fixed number of statements whatever the batch size. Money is exact (``readmodel.money.Money``),
ratios are ``Decimal`` fractions rounded half-even to 4 places, or ``None`` when the divisor is
zero. The formulas, their inputs and their limits: docs/formulas.md.
"""

from readmodel.figures.engagements import EngagementFigures, engagement_figures
from readmodel.figures.health import AccountHealth, account_health
from readmodel.figures.health_factors import HealthFactor
from readmodel.figures.invoices import days_overdue
from readmodel.figures.portfolio import CurrencyKpis, PortfolioKpis, portfolio_kpis
from readmodel.figures.projects import ProjectFigures, project_figures

__all__ = [
    "AccountHealth",
    "CurrencyKpis",
    "EngagementFigures",
    "HealthFactor",
    "PortfolioKpis",
    "ProjectFigures",
    "account_health",
    "days_overdue",
    "engagement_figures",
    "portfolio_kpis",
    "project_figures",
]
