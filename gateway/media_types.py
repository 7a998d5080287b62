"""GraphQL over HTTP's media types: which one an answer takes, and what a request error is.

- ``application/graphql-response+json`` when the client's ``Accept`` names it and ranks it at
  least as high as ``application/json``; then a request error (the document does not parse
  or validate, a variable does not coerce, no operation can be chosen: nothing ran) is a 4xx
  without a ``data`` entry, and an executed operation is a 2xx whatever its field errors.
- ``application/json`` otherwise — no ``Accept``, ``*/*``, or only ``application/json``: the
  legacy answer, 200 for every GraphQL response, ``data: null`` on request errors (the spec's
  rule for legacy clients).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from graphql import GraphQLError

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
REQUEST_ERROR_STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "INTERNAL_SERVER_ERROR": 500}
"""A request error's status by its code; any other code is the client's request: 400."""
EXECUTED = frozenset({"REQUEST_TIMEOUT"})  # ran, then stopped: a response, not a request error


def _ranges(accept: str) -> list[tuple[str, float]]:
    out = []
    for part in accept.split(","):
        kind, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if kind:
            out.append((kind.lower(), q))
    return out


def _quality(offered: str, ranges: list[tuple[str, float]]) -> float:
    """The q of the most specific range matching ``offered`` (0 when none does)."""
    family = offered.split("/")[0] + "/*"
    for pattern in (offered, family, "*/*"):
        found = [q for kind, q in ranges if kind == pattern]
        if found:
            return max(found)
    return 0.0


@lru_cache(maxsize=256)
def answer_type(accept: str | None) -> str:
    """The media type to answer with.

    graphql-response+json only when the client names it (a wildcard is a legacy client's
    default: fetch sends ``*/*``) with a q at least that of application/json; application/json
    otherwise, also when Accept allows neither (the spec lets a server ignore an Accept it
    cannot meet rather than refuse with 406). Remembered per ``Accept`` (a client sends the
    same one with every request).
    """
    ranges = _ranges(accept or "")
    named = max((q for kind, q in ranges if kind == GRAPHQL_RESPONSE), default=0.0)
    return GRAPHQL_RESPONSE if named > 0 and named >= _quality(JSON, ranges) else JSON


def content_type(media_type: str) -> str:
    """The Content-Type header of an answer in ``media_type`` (application/json as it was)."""
    return f"{media_type}; charset=utf-8" if media_type == GRAPHQL_RESPONSE else media_type


def request_error_status(data_present: bool, errors: Sequence[GraphQLError] | None) -> int | None:
    """The 4xx/5xx of a result that is a request error, or None for an executed operation.

    A request error has no data and no error with a ``path`` (field errors always have one).
    """
    if data_present or not errors or any(e.path for e in errors):
        return None
    codes = [(e.extensions or {}).get("code") for e in errors]
    if any(code in EXECUTED for code in codes):
        return None
    return max(REQUEST_ERROR_STATUS.get(str(code), 400) for code in codes)
