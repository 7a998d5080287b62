"""``POST /webhooks/salesforce?token=<secret>`` with ``text/xml``: Salesforce Outbound Messages.

Salesforce cannot sign an Outbound Message, so the endpoint URL configured in Salesforce
carries a secret (``token`` query parameter, compared in constant time with
``salesforce.outbound_message_secret``), and the message's ``OrganizationId`` must be the
configured org's. Then, as for every webhook: notification ids are recorded once (a retried
batch is a duplicate), the records named are queued for re-reading, and only after they are
queued does Salesforce get its ``Ack`` — Salesforce retries a message until it is
acknowledged, so an Ack must never stand for work that was lost.

Answers are SOAP: 200 ``notificationsResponse`` with ``<Ack>true</Ack>`` (also for a batch
that was entirely duplicates, so Salesforce stops resending it), or a SOAP fault with a 4xx
(401 bad or missing token, 403 another org, 400 malformed or dangerous XML, 413 too large)
or 503 when the re-reads could not be queued (nothing recorded: the retry is accepted).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from xml.sax.saxutils import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from clientgraph.settings import SalesforceSettings
from readmodel.types import utcnow
from sync_jobs.webhooks.events import MalformedBody
from sync_jobs.webhooks.outbound import OutboundMessage, parse_outbound
from sync_jobs.webhooks.receive import Receipt, forget, record

log = logging.getLogger("clientgraph.webhooks")
SOURCE = "salesforce"
SOAP_TYPES = ("text/xml", "application/soap+xml")
ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    "<soapenv:Body>{}</soapenv:Body></soapenv:Envelope>"
)
ACK = (
    '<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">'
    "<Ack>true</Ack></notificationsResponse>"
)
Queue = Callable[[Starlette, str, Receipt], Awaitable[bool]]


class Refused(Exception):
    """A message that changes nothing: its HTTP status and SOAP fault text."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def is_outbound_message(request: Request) -> bool:
    """Is this a SOAP POST (Salesforce's ``text/xml``) rather than a JSON webhook?"""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type in SOAP_TYPES


async def outbound_message(request: Request, body: bytes, queue: Queue) -> Response:
    """Check, record and queue one Outbound Message; Ack it once its re-reads are queued."""
    section: SalesforceSettings = request.app.state.settings.salesforce
    try:
        _check_token(section, request.query_params.get("token"))
        message = _parse(section, body)
    except Refused as refused:
        return fault(refused.status, refused.code, str(refused))
    receipt = await record(request.app.state.engine, SOURCE, message.events, utcnow())
    if not await queue(request.app, SOURCE, receipt):
        await forget(request.app.state.engine, SOURCE, receipt.accepted)
        return fault(503, "QUEUE_UNAVAILABLE", "re-reads could not be queued; retry later")
    log.info(
        "outbound message %s: %d accepted, %d duplicates",
        message.action_id,
        len(receipt.accepted),
        receipt.duplicates,
    )
    return _soap(200, ACK)


def fault(status: int, code: str, message: str) -> Response:
    """A SOAP 1.1 fault: ``soapenv:Client`` for the sender's mistakes, ``Server`` for ours."""
    side = "soapenv:Server" if status >= 500 else "soapenv:Client"
    text = escape(f"{code}: {message}")
    body = f"<soapenv:Fault><faultcode>{side}</faultcode><faultstring>{text}</faultstring>"
    return _soap(status, body + "</soapenv:Fault>")


def _check_token(section: SalesforceSettings, token: str | None) -> None:
    secret = section.outbound_message_secret.get_secret_value()
    if not secret:
        raise Refused(401, "BAD_SIGNATURE", "outbound messages are not enabled")
    if token is None or not hmac.compare_digest(secret.encode(), token.encode()):
        raise Refused(401, "BAD_SIGNATURE", "missing or wrong token in the endpoint URL")


def _parse(section: SalesforceSettings, body: bytes) -> OutboundMessage:
    try:
        message = parse_outbound(body)
    except MalformedBody as error:
        raise Refused(400, "MALFORMED_BODY", str(error)) from None
    if not _same_org(section.organization_id, message.organization_id):
        raise Refused(403, "WRONG_ORGANIZATION", "the message is from another organization")
    return message


def _same_org(configured: str, received: str) -> bool:
    """An org id in its 15- or 18-character form: the first 15 are the id itself."""
    if len(configured) < 15:
        return False
    return hmac.compare_digest(configured[:15].encode(), received[:15].encode())


def _soap(status: int, content: str) -> Response:
    return Response(ENVELOPE.format(content), status, media_type="text/xml; charset=utf-8")
