"""Why a source would not let us in, told as the setting to fix.

Each connector's login failure becomes a ``LoginFailed`` whose message says what the source
answered and names the ``CLIENTGRAPH_<SOURCE>__...`` settings to check; a server's own
error page (HTML) is never quoted. The messages carry the login and database names, never
a password or secret.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from clientgraph.settings import env_name
from sync_jobs.errors import LoginFailed

MAX_DETAIL = 120  # of an OAuth error_description quoted in a message


def oauth_refused(
    system: str,
    response: httpx.Response,
    *,
    what: str = "client credentials",
    settings: Sequence[str] | None = None,
) -> LoginFailed:
    """A client-credentials token request that failed (a 4xx that is not a busy signal).

    An answer in OAuth's error shape (RFC 6749 §5.2) means the credentials were refused;
    anything else means the base URL leads to something that is not the system's token
    endpoint. ``what`` and ``settings`` name the credentials and the settings holding them
    (default: a client id and secret). NetSuite answers only ``{"error": "invalid_grant"}``
    whatever was wrong with an assertion; its Login Audit Trail holds the reason.
    """
    oauth = _oauth_error(response)
    if oauth is None:
        return LoginFailed(
            f"{system} has no OAuth token endpoint at the configured URL "
            f"(HTTP {response.status_code})",
            [env_name(system, "base_url")],
        )
    named = settings or [env_name(system, "client_id"), env_name(system, "client_secret")]
    return LoginFailed(f"{system} refused the {what} ({oauth})", named)


def tryton_refused(status: int, login: str, database: str, password_set: bool) -> LoginFailed:
    """Tryton's answer to ``common.db.login`` when it is not a session.

    trytond answers 401 (an HTML page) to a wrong login or password and 404 to a database
    it does not serve.
    """
    if status == 404:
        return LoginFailed(
            f"tryton has no database {database!r} at the configured URL (HTTP 404)",
            [env_name("tryton", "database"), env_name("tryton", "base_url")],
        )
    if status in (401, 403):
        hint = "wrong login or password" if password_set else "the password is empty"
        return LoginFailed(
            f"tryton refused user {login!r} on database {database!r} ({hint})",
            [env_name("tryton", "login"), env_name("tryton", "password")],
        )
    return LoginFailed(
        f"tryton login failed with HTTP {status}: is the configured URL a Tryton server?",
        [env_name("tryton", "base_url")],
    )


def tryton_login_error(code: str, login: str, database: str) -> LoginFailed:
    """A JSON-RPC error envelope in answer to the login (e.g. ``LoginException``)."""
    return LoginFailed(
        f"tryton refused user {login!r} on database {database!r} ({code})",
        [env_name("tryton", "login"), env_name("tryton", "password")],
    )


def _oauth_error(response: httpx.Response) -> str | None:
    """``"<error>: <error_description>"`` of an OAuth error answer, else ``None``."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        return None
    detail = " ".join(str(body.get("error_description") or "").split())[:MAX_DETAIL]
    return f"{body['error']}: {detail}" if detail else body["error"]
