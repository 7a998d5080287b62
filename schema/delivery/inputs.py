"""Filters for the ``projects`` collection."""

from __future__ import annotations

from enum import Enum

import strawberry

from readmodel.reads.filters import ProjectQuery
from readmodel.reads.pages import Ordering
from resolvers.inputs import currency_code, optional_key, values
from schema.crm.inputs import OrderDirection, sort_order
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


@strawberry.enum(description="What `projects` can be sorted by.")
class ProjectOrderField(Enum):
    CODE = "code"
    NAME = "name"
    START_DATE = "start_date"


@strawberry.input(description="How `projects` is sorted; its cursors belong to that order.")
class ProjectOrder:
    field: ProjectOrderField = strawberry.field(
        default=ProjectOrderField.CODE, description="What to sort by."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Which way."
    )

    def to_ordering(self) -> Ordering:
        return sort_order(self.field.value, self.direction)


@strawberry.enum(description="What `engagements` can be sorted by.")
class EngagementOrderField(Enum):
    NAME = "name"
    START_DATE = "start_date"


@strawberry.input(description="How `engagements` is sorted; its cursors belong to that order.")
class EngagementOrder:
    field: EngagementOrderField = strawberry.field(
        default=EngagementOrderField.NAME, description="What to sort by."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Which way."
    )

    def to_ordering(self) -> Ordering:
        return sort_order(self.field.value, self.direction)


@strawberry.enum(description="What `milestones` can be sorted by.")
class MilestoneOrderField(Enum):
    DUE_DATE = "due_date"
    NAME = "name"


@strawberry.input(description="How `milestones` is sorted; its cursors belong to that order.")
class MilestoneOrder:
    field: MilestoneOrderField = strawberry.field(
        default=MilestoneOrderField.DUE_DATE, description="What to sort by."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Which way."
    )

    def to_ordering(self) -> Ordering:
        return sort_order(self.field.value, self.direction)
