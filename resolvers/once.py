"""An awaitable computed when first awaited and shared by whoever awaits it next."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Once(Generic[T]):
    """``make()`` run at most once, on the first ``await``: sibling fields resolved
    concurrently share one computation, and a selection that awaits none costs nothing
    (``portfolio { forecastAccuracy }`` runs none of the KPI statements)."""

    def __init__(self, make: Callable[[], Awaitable[T]]) -> None:
        self._make = make
        self._future: asyncio.Future[T] | None = None

    def __await__(self) -> Generator[Any, None, T]:
        if self._future is None:
            self._future = asyncio.ensure_future(self._make())
        return self._future.__await__()
