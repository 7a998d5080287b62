"""The parse and validation caches, counted (``clientgraph_cache_lookups_total``).

Both are ``functools.lru_cache`` objects shared by every request of the process; a lookup is a
hit when the cache's own hit count moved during the (synchronous) call, so the count is exact
without a lock: nothing else runs on the event loop meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, TypeVar

from graphql import DocumentNode, parse
from strawberry.extensions import ValidationCache

from clientgraph.metrics import cache_lookup

CACHE_SIZE = 512
T = TypeVar("T")


@lru_cache(maxsize=CACHE_SIZE)
def _parse(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


def counted(cache: str, cached: Any, call: Callable[[], T]) -> T:
    """``call()``, counted as a hit or a miss of ``cached`` (an ``lru_cache`` function)."""
    before = cached.cache_info().hits
    try:
        return call()
    finally:
        cache_lookup(cache, cached.cache_info().hits > before)


def cached_parse(query: str, max_tokens: int) -> DocumentNode:
    """The parsed document (documents are cached; errors are raised, never cached)."""
    return counted("parse", _parse, lambda: _parse(query, max_tokens))


class CountedValidationCache(ValidationCache):
    """strawberry's validation cache (shared by every request), with its lookups counted."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        cached: Any = self.cached_validate_document  # an lru_cache wrapper
        document, rules = context.graphql_document, context.validation_rules
        # counted before the yield: other requests run then
        context.pre_execution_errors = counted(
            "validation", cached, lambda: cached(context.schema._schema, document, rules)
        )
        yield
