"""HubSpot's webhook signature, version 3, checked in constant time.

HubSpot signs each webhook request with the app's client secret:

``X-HubSpot-Signature-v3 = base64(HMAC-SHA256(secret, method + uri + body + timestamp))``

where ``uri`` is the full URL HubSpot called (scheme, host, path, query; a few percent-encoded
characters decoded, as HubSpot does before signing) and ``timestamp`` is the header
``X-HubSpot-Request-Timestamp`` (epoch milliseconds). A timestamp more than five minutes old
is refused (HubSpot's own rule), and so is one from the future beyond the same tolerance.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from sync_jobs.webhooks.signature import BadSignature, StaleTimestamp

SIGNATURE_HEADER = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"
TOLERANCE_SECONDS = 300  # HubSpot: reject requests older than five minutes
# HubSpot decodes these in the URI before signing (its documentation's list).
DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}


def sign_v3(secret: str, method: str, uri: str, body: bytes, timestamp_ms: int) -> str:
    """The ``X-HubSpot-Signature-v3`` value for a request (a sender's side; tests)."""
    text = method.upper().encode() + _decoded(uri).encode() + body + str(timestamp_ms).encode()
    digest = hmac.new(secret.encode(), text, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_v3(
    secret: str,
    *,
    method: str,
    uri: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now: datetime,
    tolerance_seconds: int = TOLERANCE_SECONDS,
) -> int:
    """Check a HubSpot request; return its timestamp (ms).

    Raises:
        BadSignature: no secret configured, a header missing or malformed, or no match.
        StaleTimestamp: signed correctly but older (or newer) than the tolerance.
    """
    if not secret:
        raise BadSignature("webhooks are not enabled for this source")
    if not signature or not timestamp or not (timestamp.isascii() and timestamp.isdigit()):
        raise BadSignature(f"missing {SIGNATURE_HEADER} or {TIMESTAMP_HEADER}")
    if len(timestamp) > 16 or len(signature) > 128:
        raise BadSignature("malformed HubSpot signature headers")
    expected = sign_v3(secret, method, uri, body, int(timestamp))
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise BadSignature("signature does not match the request")
    skew = abs(now.timestamp() - int(timestamp) / 1000)
    if skew > tolerance_seconds:
        raise StaleTimestamp(
            f"timestamp is {int(skew)} s away from now; the tolerance is {tolerance_seconds} s"
        )
    return int(timestamp)


def _decoded(uri: str) -> str:
    for encoded, plain in DECODED.items():
        uri = uri.replace(encoded, plain).replace(encoded.lower(), plain)
    return uri
