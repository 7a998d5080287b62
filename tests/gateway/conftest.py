"""The identity provider's fixtures (real keys, a JWKS on a socket) for every gateway test."""

from tests.gateway.test_jwt import idp, keys

__all__ = ["idp", "keys"]
