"""Outbound Messages as Salesforce sends them: SOAP ``notifications``, resent until acked.

A workflow rule's Outbound Message queues one notification per record change (creates and
edits; deletes fire no workflow) and posts them, oldest first, in messages of up to 100
``Notification`` elements, each with its own ``Id``. A message counts as delivered only
when the answer is HTTP 200 with ``<Ack>true</Ack>`` in a ``notificationsResponse``; any
other answer, or no answer, and the same notifications (same ids) are sent again after a
back-off that doubles (Salesforce retries for up to 24 hours, at most two hours apart; here
``backoff_seconds`` and ``max_backoff_seconds`` say how long, so tests can be quick).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree.ElementTree import ParseError
from xml.sax.saxutils import escape

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from systems.salesforce.store import ChangeListener

log = logging.getLogger("systems.salesforce.outbound")
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
MAX_BATCH = 100
_ids = itertools.count(1)
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
    ' xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    f'<soapenv:Body><notifications xmlns="{OUTBOUND}">'
)
TAIL = "</notifications></soapenv:Body></soapenv:Envelope>"


@dataclass(frozen=True)
class Notification:
    notification_id: str
    sobject: str
    record_id: str


@dataclass
class OutboundMessenger:
    """One Outbound Message action, sending to ``url`` (the endpoint URL, token included)."""

    url: str
    organization_id: str
    instance_url: str = "https://example.my.salesforce.com"
    action_id: str = "04k000000000001AAA"
    objects: frozenset[str] = frozenset({"Account", "Contact", "Opportunity"})
    transport: httpx.AsyncBaseTransport | None = None
    batch_size: int = MAX_BATCH
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 7200.0
    pending: list[Notification] = field(default_factory=list)
    attempts: list[tuple[str, int]] = field(default_factory=list)  # (answer, notifications)
    acknowledged: list[str] = field(default_factory=list)  # notification ids, in order
    _task: asyncio.Task[None] | None = None

    def listener(self) -> ChangeListener:
        """A store listener: every create or edit of a watched object queues a notification."""

        def notify(sobject: str, record_id: str, change_type: str, at: datetime) -> None:
            if sobject in self.objects and change_type in ("CREATE", "UPDATE"):
                self.add(sobject, record_id)

        return notify

    def add(self, sobject: str, record_id: str) -> None:
        """Queue a notification; start sending if a loop runs and nothing is sending yet."""
        self.pending.append(Notification(f"04l{next(_ids):012d}AAA", sobject, record_id))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._task is None or self._task.done():
            self._task = loop.create_task(self.deliver())

    async def deliver(self) -> None:
        """Send until nothing is pending: each batch again and again until it is acked."""
        delay = self.backoff_seconds
        async with httpx.AsyncClient(transport=self.transport, timeout=30) as http:
            while self.pending:
                batch = self.pending[: self.batch_size]
                if await self._send(http, batch):
                    del self.pending[: len(batch)]
                    self.acknowledged += [n.notification_id for n in batch]
                    delay = self.backoff_seconds
                    continue
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff_seconds)

    async def drain(self) -> None:
        """Wait until everything queued so far is acknowledged (tests and shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    def message(self, batch: list[Notification]) -> bytes:
        """The SOAP envelope of one batch, as Salesforce writes it."""
        org = escape(self.organization_id)
        api = f"{self.instance_url}/services/Soap"
        header = (
            f"<OrganizationId>{org}</OrganizationId><ActionId>{self.action_id}</ActionId>"
            '<SessionId xsi:nil="true"/>'
            f"<EnterpriseUrl>{escape(api)}/c/60.0/{org}</EnterpriseUrl>"
            f"<PartnerUrl>{escape(api)}/u/60.0/{org}</PartnerUrl>"
        )
        return (HEAD + header + "".join(_notification(n) for n in batch) + TAIL).encode()

    async def _send(self, http: httpx.AsyncClient, batch: list[Notification]) -> bool:
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
        try:
            response = await http.post(self.url, content=self.message(batch), headers=headers)
        except httpx.TransportError as error:
            self.attempts.append((type(error).__name__, len(batch)))
            return False
        acked = response.status_code == 200 and _is_ack(response.content)
        self.attempts.append((str(response.status_code), len(batch)))
        if not acked:
            log.warning("outbound message to %s: %s, no Ack", self.url, response.status_code)
        return acked


def _notification(n: Notification) -> str:
    return (
        f"<Notification><Id>{n.notification_id}</Id>"
        f'<sObject xsi:type="sf:{n.sobject}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
        f"<sf:Id>{escape(n.record_id)}</sf:Id></sObject></Notification>"
    )


def _is_ack(content: bytes) -> bool:
    """``<Ack>true</Ack>`` inside a ``notificationsResponse``; anything else is no Ack."""
    try:
        root = fromstring(content, forbid_dtd=True)
    except (DefusedXmlException, ParseError, ValueError, LookupError):
        return False
    ack = root.find(f".//{{{OUTBOUND}}}notificationsResponse/{{{OUTBOUND}}}Ack")
    return ack is not None and (ack.text or "").strip() == "true"
