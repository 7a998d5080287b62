"""Standard Webhooks (standardwebhooks.com): the signing scheme every source's relay uses.

``webhook-id: <id>``, ``webhook-timestamp: <unix seconds>``, ``webhook-signature: v1,<base64
HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")>`` (several space-separated, for rotation).
The key is the base64 after ``whsec_`` in the secret; a secret without that prefix is used as
raw bytes (the secrets of the deprecated scheme, so one setting serves both for a release).

Verification is the ``standardwebhooks`` package's ``Webhook.verify``. Two things it does not
do are added here: it checks the clock before the signature, so a stale delivery is only
called stale once its signature is known to be right (an unsigned caller learns nothing about
the window); and its window is a fixed 5 minutes of wall time, so a configured tolerance
narrows it (it cannot widen it). The ``webhook-id`` is the delivery's dedupe id.
"""

from __future__ import annotations

import binascii
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime

from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError, WebhookVerificationError

from sync_jobs.webhooks.signature import BadSignature, StaleTimestamp

ID, TIMESTAMP, SIGNATURE = "webhook-id", "webhook-timestamp", "webhook-signature"
LIBRARY_TOLERANCE_SECONDS = 300  # standardwebhooks' fixed window, either way
MAX_SIGNATURE_LENGTH = 1024


def is_standard(headers: Mapping[str, str]) -> bool:
    """Does the delivery carry Standard Webhooks headers (any of them)?"""
    return any(headers.get(name) is not None for name in (ID, TIMESTAMP, SIGNATURE))


def sign(secret: str, msg_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The three headers a sender puts on ``body``."""
    stamp = datetime.fromtimestamp(timestamp, UTC)
    signature = _webhook(secret).sign(msg_id, stamp, body)
    return {ID: msg_id, TIMESTAMP: str(timestamp), SIGNATURE: signature}


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime,
    tolerance_seconds: int,
) -> str:
    """Check a delivery's Standard Webhooks headers; return its ``webhook-id``.

    Raises:
        BadSignature: no secret, a header missing or malformed, or no signature matches.
        StaleTimestamp: signed right, but the timestamp is outside the window.
    """
    webhook = _webhook(secret)
    msg_id, stamp, signature = (headers.get(n) or "" for n in (ID, TIMESTAMP, SIGNATURE))
    if not (msg_id and stamp and signature) or len(signature) > MAX_SIGNATURE_LENGTH:
        raise BadSignature(f"needs the headers {ID}, {TIMESTAMP} and {SIGNATURE}")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise BadSignature(f"{TIMESTAMP} must be unix seconds")
    try:
        webhook.verify(body, {ID: msg_id, TIMESTAMP: stamp, SIGNATURE: signature}, json_parse=False)
    except WebhookVerificationError:
        if not _matches(webhook, msg_id, int(stamp), signature, body):
            raise BadSignature("signature does not match the body") from None
        raise _stale(now, int(stamp), min(tolerance_seconds, LIBRARY_TOLERANCE_SECONDS)) from None
    if abs(now.timestamp() - int(stamp)) > tolerance_seconds:
        raise _stale(now, int(stamp), tolerance_seconds)
    return msg_id


def _webhook(secret: str) -> Webhook:
    if not secret:
        raise BadSignature("webhooks are not enabled for this source")
    try:
        return Webhook(secret if secret.startswith("whsec_") else secret.encode())
    except (EmptyWebhookSecretError, binascii.Error, ValueError):
        raise BadSignature("the configured webhook secret is not a valid whsec_ secret") from None


def _matches(webhook: Webhook, msg_id: str, stamp: int, signature: str, body: bytes) -> bool:
    """The library's own signature compared with each ``v1,`` candidate, in constant time."""
    expected = webhook.sign(msg_id, datetime.fromtimestamp(stamp, UTC), body).encode()
    return any(hmac.compare_digest(expected, c.encode()) for c in signature.split(" "))


def _stale(now: datetime, stamp: int, tolerance: int) -> StaleTimestamp:
    skew = int(abs(now.timestamp() - stamp))
    return StaleTimestamp(f"timestamp is {skew} s away from now; the tolerance is {tolerance} s")
