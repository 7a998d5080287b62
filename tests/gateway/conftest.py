"""Shared gateway fixtures: the identity provider (real keys, a JWKS on a socket) and the
webhook harness that posts deliveries to the gateway."""

from tests.gateway.test_jwt import idp, keys
from tests.gateway.test_webhooks import harness

__all__ = ["harness", "idp", "keys"]
