"""What every connector's client reads off an HTTP answer the same way."""

from __future__ import annotations

import httpx

from sync_jobs.limits import retry_after_seconds


def retry_after(response: httpx.Response) -> float | None:
    """The answer's ``Retry-After`` in seconds (delta-seconds or an HTTP date), if any."""
    return retry_after_seconds(response.headers.get("Retry-After"))


def oauth_message(response: httpx.Response) -> str:
    """An OAuth token endpoint's ``error_description`` (RFC 6749 §5.2), or a generic one."""
    try:
        return str(response.json().get("error_description", "authentication failed"))
    except (ValueError, AttributeError):
        return "authentication failed"
