"""What every connector's client reads off an HTTP answer the same way."""

from __future__ import annotations

import httpx

from sync_jobs.limits import retry_after_seconds


def retry_after(response: httpx.Response) -> float | None:
    """The answer's ``Retry-After`` in seconds (delta-seconds or an HTTP date), if any."""
    return retry_after_seconds(response.headers.get("Retry-After"))


def body_excerpt(response: httpx.Response, limit: int = 200) -> str:
    """The start of an error answer's body as one line of text, or its status phrase.

    An HTML page (a proxy's or a web framework's error page) is never quoted: it says
    nothing a status line does not, and it would end up in ``lastError``.
    """
    kind = response.headers.get("content-type", "")
    text = " ".join(response.text.split()) if response.text else ""
    if not text or "html" in kind or text.lstrip().startswith("<"):
        return f"HTTP {response.status_code} {response.reason_phrase}".strip()
    return text[:limit]
