"""Settings of the streams a caller follows (subscriptions over WebSocket and Server-Sent
Events). Kept apart so ``clientgraph/settings.py`` stays small; docs/api.md (Subscriptions)
says how each is used."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SubscriptionSettings(BaseModel):
    """Caps on what one caller may hold open, counted in each gateway process."""

    max_per_caller: int = Field(
        20,
        ge=1,
        le=10_000,
        description="Subscriptions one caller (API key, token subject, or anonymous address) "
        "may follow at once in one gateway process, over every transport together; one more is "
        "refused with TOO_MANY_SUBSCRIPTIONS until one ends.",
    )
    reservation_seconds: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="How long a graphql-sse single-connection reservation (PUT) waits for "
        "its event stream before it is dropped.",
    )
