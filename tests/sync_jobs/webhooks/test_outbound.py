"""Salesforce Outbound Messages → events: what is read, and XML that is refused unread."""

from __future__ import annotations

import pytest

from sync_jobs.webhooks.events import Hint, MalformedBody
from sync_jobs.webhooks.outbound import parse_outbound
from systems.salesforce.outbound import Notification, OutboundMessenger

ORG = "00D000000000001AAA"


def message(*notifications: Notification, org: str = ORG) -> bytes:
    return OutboundMessenger("http://gateway.test", org).message(list(notifications))


def note(n: int, sobject: str = "Account", record_id: str = "001000000000001AAA") -> Notification:
    return Notification(f"04l{n:012d}AAA", sobject, record_id)


def test_each_notification_is_an_event_named_by_its_id() -> None:
    parsed = parse_outbound(
        message(note(1), note(2, "Opportunity", "006000000000009AAA"), note(3, "Contact"))
    )

    assert parsed.organization_id == ORG and parsed.action_id.startswith("04k")
    assert [(e.event_id, e.hint) for e in parsed.events] == [
        ("04l000000000001AAA", Hint("account", ("001000000000001AAA",))),
        ("04l000000000002AAA", Hint("opportunity", ("006000000000009AAA",))),
        ("04l000000000003AAA", Hint("contact", ("001000000000001AAA",))),
    ]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><ActionId>&lol3;</ActionId>
</notifications></soapenv:Body></soapenv:Envelope>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><ActionId>&xxe;</ActionId>
</notifications></soapenv:Body></soapenv:Envelope>"""


@pytest.mark.parametrize(
    "body",
    [
        BILLION_LAUGHS,
        XXE,
        b"<not xml",
        b'<?xml version="1.0" encoding="bogus"?><a/>',
        b'{"json": true}',
        message(note(1)).replace(b"soapenv:Envelope", b"soapenv:Letter"),
        message(note(1)).replace(b"sf:Account", b"sf:User"),
        message(note(1)).replace(b"<sf:Id>001000000000001AAA</sf:Id>", b""),
        message(note(1)).replace(b"<Id>04l000000000001AAA</Id>", b"<Id>bad id!</Id>"),
        message(note(1), org="not-an-org"),
        message(*[note(n) for n in range(101)]),  # Salesforce sends at most 100
        message(),
    ],
    ids=["billion laughs", "xxe", "not well-formed", "unknown encoding", "json", "not soap",
         "unknown type", "no sObject id", "bad notification id", "bad org id",
         "101 notifications", "none"],
)  # fmt: skip
def test_malformed_or_dangerous_xml_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedBody):
        parse_outbound(body)
