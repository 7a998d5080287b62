"""Types every domain uses: Node, Money, SourceRef, PageInfo."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import strawberry
from sqlalchemy import Row

from readmodel.money import Money as MoneyValue
from resolvers import entities
from resolvers.context import context_of
from resolvers.dataloaders import CHILDREN, Filter
from resolvers.errors import BadUserInput
from resolvers.ids import key_of
from schema.enums import SourceSystem

T = TypeVar("T")


@strawberry.type(description="An exact amount of money in one currency.")
class Money:
    amount: Decimal = strawberry.field(
        description='Decimal amount as a string, two decimal places (e.g. "1234.50").'
    )
    currency: str = strawberry.field(description='ISO 4217 currency code, e.g. "USD".')


@strawberry.type(description="Where a record came from: its id and version in a system of record.")
class SourceRef:
    system: SourceSystem = strawberry.field(description="The system of record.")
    object_type: str = strawberry.field(description="The record's type in that system.")
    source_id: str = strawberry.field(description="The record's id in that system.")
    version: datetime = strawberry.field(
        description="The source's modification stamp of the version we hold."
    )
    synced_at: datetime = strawberry.field(description="When clientgraph last applied it.")


def lineage_ref(row: Row[Any], object_type: str) -> SourceRef:
    return SourceRef(
        system=SourceSystem(row.source_system),
        object_type=object_type,
        source_id=row.source_id,
        version=row.source_version,
        synced_at=row.synced_at,
    )


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(description="Global, opaque id.")
    row: strawberry.Private[Any]

    @strawberry.field(description="This record's id and version in each system that holds it.")
    def source_refs(self) -> list[SourceRef]:
        return [lineage_ref(self.row, type(self).__name__.lower())]

    @classmethod
    async def resolve_reference(cls, info: strawberry.Info, id: strawberry.ID) -> Any:
        """Federation: the object a supergraph's reference names (types with ``@key``)."""
        row = await entities.entity(context_of(info), cls.__name__, id)
        return None if row is None else cls.from_row(row)  # type: ignore[attr-defined]


@strawberry.type(description="Relay page information (forward paging with first / after).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether a page follows this one.")
    has_previous_page: bool = strawberry.field(
        description="Whether items come before this page (it was asked for with `after`)."
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of this page's first item; null on an empty page."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of this page's last item: pass it as `after` for the next page."
    )


def ratio(value: Decimal | None) -> float | None:
    """A fraction for display (0.8125 → 0.8125); ``None`` when undefined."""
    return None if value is None else float(value)


def money(minor: int | None, currency: str) -> Money:
    """A stored minor-unit amount as GraphQL ``Money``."""
    return money_of(MoneyValue.from_minor(minor, currency))


def money_of(value: MoneyValue) -> Money:
    return Money(amount=value.amount, currency=value.currency)


async def one(info: Any, loader: str, key: int | None, wrap: Callable[[Any], T]) -> T | None:
    """The object a foreign key names, through the request's ``loader`` (``None`` if absent)."""
    if key is None:
        return None
    row = await getattr(context_of(info).loaders, loader).load(key)
    return None if row is None else wrap(row)


async def _following(
    info: Any, loader: str, key: int, first: int | None, only: Filter, after: str
) -> list[Any]:
    """The children of ``key`` after the one ``after`` names; BAD_USER_INPUT when that id
    is malformed, of another type, or names no child of ``key`` the caller may see (so an
    id outside the caller's rows reads exactly as one that does not exist)."""
    type_name = CHILDREN[loader].model.__name__
    child = key_of(after, type_name, argument="after")
    rows = await context_of(info).loaders.children(loader, first, only, child).load(key)
    if rows is None:
        message = f"after: {after!r} names no {type_name} of this list"
        raise BadUserInput(message, argument="after")
    return list(rows)


NESTED_FIRST = 100
"""How many items a nested list holds when ``first`` is not given (and at most, by default:
``graphql.max_page_size``). The cost limit counts a list as this many items."""

After = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="The id of the last item already received: the list continues after it, "
        "in the list's order (an id that is not an item of this list is BAD_USER_INPUT)."
    ),
]


First = Annotated[
    int,
    strawberry.argument(
        description=f"At most this many items, in the list's order (default {NESTED_FIRST}, "
        "at most the configured page maximum)."
    ),
]


async def many(
    info: Any,
    loader: str,
    key: int,
    wrap: Callable[[Any], T],
    first: int | None = None,
    only: Filter = (),
    after: str | None = None,
) -> list[T]:
    """The first ``first`` children of ``key`` (those matching ``only``), through the request's
    loader of list ``loader``; with ``after`` (a child's global id), those that follow it."""
    ctx = context_of(info)
    if first is not None and not 0 <= first <= ctx.limits.max_page_size:
        message = f"first must be 0 to {ctx.limits.max_page_size}"
        raise BadUserInput(message, argument="first")
    if after is not None:
        return [wrap(row) for row in await _following(info, loader, key, first, only, after)]
    if loader in CHILDREN:
        rows = await ctx.loaders.children(loader, first, only).load(key)
    else:
        rows = (await getattr(ctx.loaders, loader).load(key))[:first]
    return [wrap(row) for row in rows]
