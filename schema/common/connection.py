"""Relay connections for the root collections (``accounts``, ``projects``, ``invoices``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from resolvers.connections import RowPage
from schema.common.types import PageInfo

NodeT = TypeVar("NodeT")


@strawberry.type(description="One item of a page, with the cursor to page on from it.")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Opaque; valid only for this list and order.")
    node: NodeT = strawberry.field(description="The item.")


@strawberry.type(description="A page of a root list (Relay connection: first / after).")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The page's items with cursors.")
    page_info: PageInfo = strawberry.field(description="Where this page is in the list.")
    page: strawberry.Private[RowPage]

    @strawberry.field(description="The nodes of this page (same as edges' nodes).")
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="How many items match the filter, over all pages.")
    async def total_count(self) -> int:
        return await self.page.total_count()


def connection(page: RowPage, wrap: Callable[[Any], NodeT]) -> Connection[NodeT]:
    edges = [Edge(cursor=c, node=wrap(r)) for c, r in zip(page.cursors, page.rows, strict=True)]
    info = PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=page.cursors[0] if page.cursors else None,
        end_cursor=page.cursors[-1] if page.cursors else None,
    )
    return Connection(edges=edges, page_info=info, page=page)
