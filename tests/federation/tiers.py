"""A second subgraph for the supergraph test: it extends ``Account`` with a support tier and
lists some accounts of its own (so the gateway fetches their fields from clientgraph)."""

from __future__ import annotations

import strawberry
import strawberry.federation
from strawberry.asgi import GraphQL

TIERS = ("GOLD", "SILVER", "BRONZE")


def tier_of(account_id: str) -> str:
    return TIERS[sum(account_id.encode()) % len(TIERS)]


@strawberry.federation.type(keys=["id"])
class Account:
    id: strawberry.ID

    @strawberry.field
    def support_tier(self) -> str:
        return tier_of(self.id)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Account:
        return cls(id=id)


def tiers_app(account_ids: list[str]) -> GraphQL[None, None]:
    """The subgraph's ASGI app; ``tieredAccounts`` lists ``account_ids``."""

    @strawberry.type
    class Query:
        @strawberry.field
        def tiered_accounts(self) -> list[Account]:
            return [Account(id=strawberry.ID(i)) for i in account_ids]

    return GraphQL(strawberry.federation.Schema(query=Query))
