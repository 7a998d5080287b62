"""A caller's address: the socket's peer, unless a trusted proxy forwarded the request."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from starlette.requests import Request

from clientgraph.settings_http import HttpSettings
from gateway.client_address import client_address


def request(peer: str, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return Request({"type": "http", "client": (peer, 4711), "headers": headers})


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "caller"),
    [
        ("198.51.100.7", ["203.0.113.5"], [], "198.51.100.7"),  # no proxies: the socket
        ("198.51.100.7", ["203.0.113.5"], ["10.0.0.0/8"], "198.51.100.7"),  # not our proxy
        ("10.0.0.2", ["203.0.113.5"], ["10.0.0.0/8"], "203.0.113.5"),
        ("10.0.0.2", ["1.1.1.1, 203.0.113.5"], ["10.0.0.0/8"], "203.0.113.5"),  # left: the client's
        ("10.0.0.2", ["203.0.113.5, 10.0.0.9"], ["10.0.0.0/8"], "203.0.113.5"),  # two proxies
        ("10.0.0.2", ["1.1.1.1", "203.0.113.5"], ["10.0.0.0/8"], "203.0.113.5"),  # two headers
        ("10.0.0.2", [], ["10.0.0.0/8"], "10.0.0.2"),  # nothing forwarded
        ("10.0.0.2", ["10.0.0.3"], ["10.0.0.0/8"], "10.0.0.2"),  # only proxies
        ("::1", ["2001:db8::5"], ["::1"], "2001:db8::5"),
    ],
)
def test_the_caller_is_the_first_untrusted_hop_from_the_right(
    peer: str, forwarded: list[str], trusted: list[str], caller: str
) -> None:
    assert client_address(request(peer, *forwarded), trusted) == caller


def test_a_proxy_that_is_not_an_address_is_refused_at_start_up() -> None:
    with pytest.raises(ValidationError):
        HttpSettings(trusted_proxies=["proxy.internal"])
