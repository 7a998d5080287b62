"""One signing scheme for every source's webhooks (Stripe-style), checked in constant time.

``X-Clientgraph-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``

The timestamp is inside the signed text, so a captured delivery cannot be replayed later with
a fresh ``t``; the tolerance window bounds how long a captured one stays usable, and event-id
dedupe covers replays within it. Several ``v1=`` entries are allowed (a sender rotating its
secret signs with both); one match is enough.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

HEADER = "X-Clientgraph-Signature"
SCHEME = "v1"
MAX_HEADER_LENGTH = 1024


class SignatureError(Exception):
    """A delivery that must change nothing."""


class BadSignature(SignatureError):
    """Missing, malformed or wrong signature, or no secret configured (HTTP 401)."""


class StaleTimestamp(SignatureError):
    """Correctly signed but outside the tolerance window: too old or from the future (400)."""


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header value a sender puts on ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={timestamp},{SCHEME}={_digest(secret, timestamp, body)}"


def verify(
    secret: str, header: str | None, body: bytes, *, now: datetime, tolerance_seconds: int
) -> int:
    """Check ``header`` against ``body``; return the signed timestamp.

    The signature is checked before the timestamp, so an unsigned caller learns nothing
    about the clock window.

    Raises:
        BadSignature: no secret configured, header missing or malformed, or no match.
        StaleTimestamp: the signature matches but ``t`` is more than ``tolerance_seconds``
            away from ``now`` (either direction).
    """
    if not secret:
        raise BadSignature("webhooks are not enabled for this source")
    timestamp, candidates = _parse(header)
    expected = _digest(secret, timestamp, body)
    if not any(hmac.compare_digest(expected.encode(), c.encode()) for c in candidates):
        raise BadSignature("signature does not match the body")
    skew = abs(now.timestamp() - timestamp)
    if skew > tolerance_seconds:
        raise StaleTimestamp(
            f"timestamp is {int(skew)} s away from now; the tolerance is {tolerance_seconds} s"
        )
    return timestamp


def _parse(header: str | None) -> tuple[int, list[str]]:
    """``t=…,v1=…[,v1=…]`` → (t, [v1 …]); unknown schemes are ignored (forward compatible)."""
    if not header or len(header) > MAX_HEADER_LENGTH:
        raise BadSignature(f"missing or oversized {HEADER} header")
    timestamps, candidates = [], []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise BadSignature(f"malformed {HEADER} header")
        if key == "t":
            timestamps.append(value)
        elif key == SCHEME and _is_hex_digest(value):  # anything else can never match
            candidates.append(value.lower())
    if len(timestamps) != 1 or not _is_seconds(timestamps[0]) or not candidates:
        raise BadSignature(f"{HEADER} needs one t=<unix seconds> and a {SCHEME}=<hex>")
    return int(timestamps[0]), candidates


def _is_hex_digest(text: str) -> bool:
    """64 hex characters (a SHA-256): other text, non-ASCII included, is refused unread."""
    return len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text)


def _is_seconds(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 12


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
