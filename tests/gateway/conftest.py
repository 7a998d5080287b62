"""The webhook harness, shared by the modules that post deliveries to the gateway."""

from tests.gateway.test_webhooks import harness

__all__ = ["harness"]
