"""Who may read ``/metrics``: Prometheus with ``ops.metrics_token``, or an operator or admin.

The counts it shows (commands, exceptions, sources) are an operator's view, so the rule is the
operator queries' rule (``OPERATORS``), plus a scrape token that opens ``/metrics`` alone.
Gateway and worker both use it; each says who a credential is (``PrincipalOf``).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable

from pydantic import SecretStr
from starlette.responses import Response

from clientgraph.access.principal import Principal
from clientgraph.access.roles import OPERATORS

PrincipalOf = Callable[[str | None], Awaitable[Principal | str]]
"""The caller an ``Authorization`` value names, or why it is refused."""


async def scrape_refusal(
    authorization: str | None, token: SecretStr | None, principal_of: PrincipalOf
) -> Response | None:
    """``None`` when the caller may read; the 401/403 answer otherwise."""
    if token is not None and _is_token(authorization, token.get_secret_value()):
        return None
    principal = await principal_of(authorization)
    if isinstance(principal, str):
        return _answer(401, "UNAUTHENTICATED", principal)
    if principal.role not in OPERATORS:
        return _answer(403, "FORBIDDEN", "only the roles admin, operator (or the scrape token)")
    return None


def _is_token(authorization: str | None, token: str) -> bool:
    scheme, _, given = (authorization or "").strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


def _answer(status: int, code: str, message: str) -> Response:
    body = json.dumps({"error": {"code": code, "message": message}})
    headers = {"WWW-Authenticate": 'Bearer realm="clientgraph"'} if status == 401 else {}
    return Response(body, status_code=status, media_type="application/json", headers=headers)
