"""Filters and ordering for the ``accounts`` collection."""

from __future__ import annotations

from enum import Enum

import strawberry

from readmodel.reads.filters import AccountQuery
from readmodel.reads.pages import Ordering
from resolvers.inputs import currency_code, optional_key, strings, text, values
from schema.enums import AccountStatus


@strawberry.input(description="All given conditions must hold.")
class AccountFilter:
    name_contains: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the name."
    )
    industry: list[str] | None = None
    status: list[AccountStatus] | None = None
    currency: str | None = None
    parent_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only direct subsidiaries of this account."
    )
    top_level: bool | None = strawberry.field(
        default=None, description="true: only accounts without a parent; false: only children."
    )

    def to_query(self) -> AccountQuery:
        return AccountQuery(
            name_contains=text(self.name_contains, "filter.nameContains"),
            industries=strings(self.industry, "filter.industry"),
            statuses=values(self.status, "filter.status"),
            currency=currency_code(self.currency, "filter.currency"),
            parent_id=optional_key(self.parent_id, "Account", "filter.parentId"),
            top_level=self.top_level,
        )


@strawberry.enum(description="What `accounts` can be sorted by.")
class AccountOrderField(Enum):
    NAME = "name"
    UPDATED_AT = "updated_at"


@strawberry.enum(description="Which way a sort runs.")
class OrderDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.input(description="How `accounts` is sorted; its cursors belong to that order.")
class AccountOrder:
    field: AccountOrderField = strawberry.field(
        default=AccountOrderField.NAME, description="What to sort by."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Which way."
    )

    def to_ordering(self) -> Ordering:
        return sort_order(self.field.value, self.direction)


def sort_order(column: str, direction: OrderDirection) -> Ordering:
    """A root list's order by one column (ids break ties); its cursors name it."""
    return Ordering(
        name=f"{column}-{direction.value}",
        columns=(column, "id"),
        descending=direction is OrderDirection.DESC,
    )


@strawberry.enum(description="What `contacts` can be sorted by.")
class ContactOrderField(Enum):
    LAST_NAME = "last_name"
    FIRST_NAME = "first_name"


@strawberry.input(description="How `contacts` is sorted; its cursors belong to that order.")
class ContactOrder:
    field: ContactOrderField = strawberry.field(
        default=ContactOrderField.LAST_NAME, description="What to sort by."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Which way."
    )

    def to_ordering(self) -> Ordering:
        return sort_order(self.field.value, self.direction)


@strawberry.enum(description="What `opportunities` can be sorted by.")
class OpportunityOrderField(Enum):
    CLOSE_DATE = "close_date"
    NAME = "name"


@strawberry.input(description="How `opportunities` is sorted; its cursors belong to that order.")
class OpportunityOrder:
    field: OpportunityOrderField = strawberry.field(
        default=OpportunityOrderField.CLOSE_DATE, description="What to sort by."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Which way."
    )

    def to_ordering(self) -> Ordering:
        return sort_order(self.field.value, self.direction)


DEFAULT_ORDER = AccountOrder()
