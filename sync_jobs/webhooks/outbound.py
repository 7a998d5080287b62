"""Salesforce Outbound Messages: the SOAP ``notifications`` envelope → events to re-read.

An Outbound Message (Setup > Process Automation > Workflow Actions > Outbound Messages, sent
by a workflow rule or a flow) is a SOAP 1.1 POST of ``notifications`` (namespace
``http://soap.sforce.com/2005/09/outbound``): ``OrganizationId``, ``ActionId``,
``SessionId`` (may be nil), ``EnterpriseUrl``, ``PartnerUrl`` and 1–100 ``Notification``
elements, each an ``Id`` (the notification's own id, stable across Salesforce's retries:
the dedupe id) and an ``sObject`` of ``xsi:type`` ``sf:Account`` / ``sf:Contact`` /
``sf:Opportunity`` holding at least ``sf:Id``. As with every webhook, only ids are taken:
field values in the message are never applied, the records are re-read.

The XML comes from outside, so it is parsed by ``defusedxml`` with DTDs forbidden (a SOAP
message may not carry one): no entity expansion (billion laughs), no external entities
(XXE). The body size is capped by the caller before parsing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from sync_jobs.webhooks.events import (
    EVENT_ID,
    RECORD_ID,
    SALESFORCE_ENTITIES,
    Event,
    Hint,
    MalformedBody,
)

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_NOTIFICATIONS = 100  # Salesforce sends at most 100 notifications in one message
ORGANIZATION_ID = re.compile(r"00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?")


@dataclass(frozen=True)
class OutboundMessage:
    """What one message says: whose org, which action, and one event per notification."""

    organization_id: str
    action_id: str
    events: list[Event]


def parse_outbound(body: bytes) -> OutboundMessage:
    """The message in ``body``.

    Raises:
        MalformedBody: not well-formed XML, a DTD or entity, not a SOAP ``notifications``
            envelope, an unknown sObject type, a malformed id, or over 100 notifications.
    """
    try:
        root = fromstring(body, forbid_dtd=True)
    except (DefusedXmlException, ParseError, ValueError, LookupError) as error:  # Lookup: encoding
        raise MalformedBody(f"not a plain XML document ({type(error).__name__})") from None
    notifications = _notifications(root)
    items = notifications.findall(f"{{{OUTBOUND}}}Notification")
    if not items or len(items) > MAX_NOTIFICATIONS:
        raise MalformedBody(f"a message holds 1–{MAX_NOTIFICATIONS} Notification elements")
    organization = _text(notifications, "OrganizationId")
    if not ORGANIZATION_ID.fullmatch(organization):
        raise MalformedBody("OrganizationId is not a Salesforce organization id")
    action = _text(notifications, "ActionId")
    return OutboundMessage(organization, action, [_event(n) for n in items])


def _notifications(root: Element) -> Element:
    if root.tag != f"{{{SOAP}}}Envelope":
        raise MalformedBody("not a SOAP 1.1 envelope")
    found = root.find(f"{{{SOAP}}}Body/{{{OUTBOUND}}}notifications")
    if found is None:
        raise MalformedBody("the SOAP body holds no outbound notifications element")
    return found


def _event(notification: Element) -> Event:
    notification_id = _text(notification, "Id")
    if not EVENT_ID.fullmatch(notification_id):
        raise MalformedBody("a Notification Id must be 1–128 letters, digits or . : _ -")
    sobject = notification.find(f"{{{OUTBOUND}}}sObject")
    if sobject is None:
        raise MalformedBody("every Notification holds an sObject")
    kind = sobject.get(f"{{{XSI}}}type", "").rpartition(":")[2]
    if kind not in SALESFORCE_ENTITIES:
        raise MalformedBody(f"unknown sObject type {kind!r}")
    record_id = _sobject_id(sobject)
    return Event(notification_id, Hint(SALESFORCE_ENTITIES[kind], (record_id,)))


def _sobject_id(sobject: Element) -> str:
    """``sf:Id``: the namespace is the enterprise (or partner) WSDL's, so match the local name."""
    ids = [child.text or "" for child in sobject if child.tag.rpartition("}")[2] == "Id"]
    if len(ids) != 1 or not RECORD_ID.fullmatch(ids[0].strip()):
        raise MalformedBody("every sObject needs one Id of 1–64 letters, digits or . : _ -")
    return ids[0].strip()


def _text(parent: Element, name: str) -> str:
    found = parent.find(f"{{{OUTBOUND}}}{name}")
    if found is None or not (found.text or "").strip():
        raise MalformedBody(f"{name} is missing")
    return (found.text or "").strip()
