"""Filters for the ``projects`` collection."""

from __future__ import annotations

import strawberry

from readmodel.reads.filters import ProjectQuery
from resolvers.inputs import currency_code, optional_key, values
from schema.enums import BillingMethod, ProjectStatus


@strawberry.input(description="All given conditions must hold.")
class ProjectFilter:
    status: list[ProjectStatus] | None = None
    billing_method: list[BillingMethod] | None = None
    account_id: strawberry.ID | None = None
    engagement_id: strawberry.ID | None = None
    currency: str | None = None

    def to_query(self) -> ProjectQuery:
        return ProjectQuery(
            statuses=values(self.status, "filter.status"),
            billing_methods=values(self.billing_method, "filter.billingMethod"),
            account_id=optional_key(self.account_id, "Account", "filter.accountId"),
            engagement_id=optional_key(self.engagement_id, "Engagement", "filter.engagementId"),
            currency=currency_code(self.currency, "filter.currency"),
        )
