"""``POST /webhooks/{source}``: a signed hint from a system of record → a queued re-read.

The endpoint only verifies, records event ids and queues work; it never calls the source
itself, so a burst of webhooks cannot hold requests open or outrun the source's rate limit
(the refresh jobs run under the connectors' limits). Answers:

- 202 ``{"accepted": n, "duplicates": m}``; 200 when every event was a duplicate;
- 404 unknown source (or one without webhooks), 413 body over ``MAX_BODY_BYTES``,
  401 missing or wrong signature, 400 stale timestamp or malformed body — these change nothing;
- 503 when the re-reads could not be queued: the new event ids are forgotten again, so the
  sender's retry is accepted rather than taken for a duplicate.

Signatures are Standard Webhooks (the deprecated ``X-Clientgraph-Signature`` is still
accepted for one release). Salesforce Outbound Messages (``text/xml``) take their own path
and are answered in SOAP (``gateway.outbound_messages``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from clientgraph.metrics import WEBHOOK_REJECTS
from clientgraph.settings import Settings, SourceSettings
from gateway.outbound_messages import fault, is_outbound_message, outbound_message
from readmodel.types import utcnow
from sync_jobs.webhooks.events import PARSERS, MalformedBody
from sync_jobs.webhooks.hubspot_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_v3
from sync_jobs.webhooks.receive import Receipt, forget, receive
from sync_jobs.webhooks.signature import BadSignature, StaleTimestamp

log = logging.getLogger("clientgraph.webhooks")

MAX_BODY_BYTES = 1024 * 1024


class BodyTooLarge(Exception):
    """The body passed ``MAX_BODY_BYTES``: reading stops there (HTTP 413)."""


async def webhook(request: Request) -> Response:
    """Verify, dedupe and queue one delivery (see the module docstring for the answers)."""
    source = request.path_params["source"]
    if source not in PARSERS:
        return _reject(source, 404, "UNKNOWN_SOURCE", f"no webhooks for source {source!r}")
    if source == "salesforce" and is_outbound_message(request):
        return await _outbound(request)
    try:
        receipt = await _receive(request, source)
    except BodyTooLarge:
        return _reject(source, 413, "BODY_TOO_LARGE", f"the body exceeds {MAX_BODY_BYTES} bytes")
    except BadSignature as error:
        return _reject(source, 401, "BAD_SIGNATURE", str(error))
    except StaleTimestamp as error:
        return _reject(source, 400, "STALE_TIMESTAMP", str(error))
    except MalformedBody as error:
        return _reject(source, 400, "MALFORMED_BODY", str(error))
    if not await _dispatch(request.app, source, receipt):
        await forget(request.app.state.engine, source, receipt.accepted)
        message = "re-reads could not be queued; retry later"
        return _reject(source, 503, "QUEUE_UNAVAILABLE", message)
    status = 200 if receipt.duplicates and not receipt.accepted else 202
    body = {"accepted": len(receipt.accepted), "duplicates": receipt.duplicates}
    return JSONResponse(body, status_code=status)


async def _outbound(request: Request) -> Response:
    """A Salesforce Outbound Message (SOAP): answered in SOAP (``gateway.outbound_messages``)."""
    try:
        body = await _read_body(request)
    except BodyTooLarge:
        return fault(413, "BODY_TOO_LARGE", f"the body exceeds {MAX_BODY_BYTES} bytes")
    return await outbound_message(request, body, _dispatch)


async def _receive(request: Request, source: str) -> Receipt:
    settings: Settings = request.app.state.settings
    section: SourceSettings = getattr(settings, source)
    verifier = _hubspot_verifier(request, settings) if source == "hubspot" else None
    return await receive(
        request.app.state.engine,
        source,
        await _read_body(request),
        secret=section.webhook_secret.get_secret_value(),
        headers=request.headers,
        now=utcnow(),  # wall time, not the app's business clock: this is replay protection
        tolerance_seconds=settings.sync.webhook_tolerance_seconds,
        verifier=verifier,
    )


def _hubspot_verifier(request: Request, settings: Settings) -> Callable[[bytes], object]:
    """HubSpot signs method + the URL it called + body + timestamp with the app's secret;
    the URL is the configured public one (behind a proxy), else the one that arrived."""
    hs = settings.hubspot
    uri = hs.webhook_url or str(request.url)

    def check(body: bytes) -> int:
        return verify_v3(
            hs.webhook_secret.get_secret_value(),
            method=request.method,
            uri=uri,
            body=body,
            signature=request.headers.get(SIGNATURE_HEADER),
            timestamp=request.headers.get(TIMESTAMP_HEADER),
            now=utcnow(),
        )

    return check


async def _read_body(request: Request) -> bytes:
    """The raw body, refused as soon as it passes the limit (a lying Content-Length too)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BodyTooLarge
    return bytes(body)


async def _dispatch(app: Starlette, source: str, receipt: Receipt) -> bool:
    """Queue one ``refresh_records`` job per hint on ``app.state.jobs`` (arq, or the in-process
    runner); ``False`` if any could not be queued."""
    try:
        for hint in receipt.hints:
            await app.state.jobs.enqueue(
                "refresh_records", source, hint.object_type, list(hint.ids)
            )
    except Exception:  # any dispatcher's failure: the sender must retry, we must not dedupe it
        log.warning("webhook %s: re-reads not queued", source, exc_info=True)
        return False
    return True


def _reject(source: str, status: int, code: str, message: str) -> JSONResponse:
    """``_error``, counted by source and reason (``clientgraph_webhook_rejects_total``)."""
    WEBHOOK_REJECTS.labels(source if source in PARSERS else "unknown", code).inc()
    return _error(status, code, message)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
