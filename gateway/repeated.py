"""Requests the short path has answered before: what it worked out for a body — the document
parsed, the limits measured, the plan's values bound — for one caller's rule set on one day.

A front end asks the same few documents with the same variables again and again; each time
the short path parsed the body's JSON, looked the document and its plan up, measured the limits
for the variables and bound every parameter (coercing each argument as execution does): ~0.1 ms
of a warm answer's ~0.45 ms of the gateway's CPU (bench/analysis.md, stop 31). All of that is a
function of the body's bytes, the caller's role and row rules (the plan's own key), the app's
settings and the request's date, so a body seen before on the same day by a caller with the same
rules is answered from what was worked out then. Authentication, rate limits, the request's
own checks (method, headers) and the statement (or the response cache's check) still run for
every request.

Bounds: ``MAX_ENTRIES`` bodies per app, least recently used out first, each at most
``MAX_BODY_BYTES`` (a larger body is worked out every time). An entry holds its body, its
document's text and variables and the bound values, and keeps its plan (the statement's text
for each page shape used, 10–40 KiB for a front end's view) in memory while it is kept, even
once the plan cache (512 plans) has let it go: a few MiB when every entry is another document.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from datetime import date
from typing import Generic, TypeVar

from clientgraph.access.principal import Principal

MAX_ENTRIES = 256
MAX_BODY_BYTES = 8192

T = TypeVar("T")


class Repeated(Generic[T]):
    """What was worked out per (body, rule set, day), least recently used out first."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, T] = OrderedDict()

    @staticmethod
    def key(body: bytes, principal: Principal, today: date) -> Hashable | None:
        """The key of this request (``None``: too large to keep)."""
        if len(body) > MAX_BODY_BYTES:
            return None
        return (body, principal.role, principal.accounts, principal.owner, today)

    def get(self, key: Hashable | None) -> T | None:
        if key is None:
            return None
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: Hashable | None, value: T) -> None:
        if key is None:
            return
        self._entries[key] = value
        self._entries.move_to_end(key)
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
