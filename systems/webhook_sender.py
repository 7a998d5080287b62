"""Signed webhook deliveries from a simulator to a target URL, with switchable faults.

Shared by the simulators: each collects change events (``add``) and posts them, one event per
delivery, signed with Standard Webhooks (``sync_jobs.webhooks.standard``: a fresh
``webhook-id`` per delivery, kept when the same delivery is sent again). Faults mimic what
real senders do: deliver an event twice (``duplicate``: the same delivery, same
``webhook-id``) and deliver a burst in a shuffled order (``out_of_order``). ``encode`` turns
a list of events into the source's body format (Salesforce: the list itself; NetSuite:
``{"events": [...]}``).

With a running event loop, a change schedules a flush on the next loop iteration, so a burst
of changes made in one request goes out together and the request is never held up. Without
``url`` the sender only collects: tests take the signed deliveries with ``take``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from sync_jobs.webhooks.standard import sign

log = logging.getLogger("systems.webhook_sender")
Event = dict[str, Any]


@dataclass
class SenderFaults:
    """Misbehaviours to switch on: every event sent twice; bursts sent in a shuffled order."""

    duplicate: bool = False
    out_of_order: bool = False
    seed: int = 0


@dataclass(frozen=True)
class Delivery:
    """One signed POST: its body and headers, exactly as sent."""

    body: bytes
    headers: dict[str, str]


@dataclass
class WebhookSender:
    secret: str
    url: str | None = None
    encode: Callable[[list[Event]], Any] = list
    faults: SenderFaults = field(default_factory=SenderFaults)
    transport: httpx.AsyncBaseTransport | None = None
    # headers for a body, for a source that signs its own way (HubSpot); default: ours
    signer: Callable[[bytes], dict[str, str]] | None = None
    pending: list[Event] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # of every POST made, in order
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def add(self, event: Event) -> None:
        """Queue an event; flush soon if there is a target and a running loop."""
        self.pending.append(event)
        if self.url is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self.flush())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def take(self) -> list[Delivery]:
        """The pending events as signed deliveries (faults applied); the queue empties."""
        events, self.pending = self.pending, []
        deliveries = [self.signed(self.encode([e])) for e in events]
        if self.faults.duplicate:
            deliveries = [d for delivery in deliveries for d in (delivery, delivery)]
        if self.faults.out_of_order:
            random.Random(self.faults.seed).shuffle(deliveries)
        return deliveries

    def signed(self, document: Any) -> Delivery:
        body = json.dumps(document).encode()
        if self.signer is not None:  # a source's own scheme (HubSpot's v3)
            return Delivery(body, {**self.signer(body), "Content-Type": "application/json"})
        headers = sign(self.secret, f"msg_{uuid.uuid4().hex}", body, int(time.time()))
        return Delivery(body, {**headers, "Content-Type": "application/json"})

    async def flush(self) -> None:
        """POST what is pending to ``url``, one delivery at a time; failures are logged."""
        deliveries = self.take()
        if not deliveries or self.url is None:
            return
        async with httpx.AsyncClient(transport=self.transport, timeout=10) as http:
            for delivery in deliveries:
                await self._post(http, delivery)

    async def drain(self) -> None:
        """Wait for scheduled flushes (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    async def _post(self, http: httpx.AsyncClient, delivery: Delivery) -> None:
        assert self.url is not None
        try:
            response = await http.post(self.url, content=delivery.body, headers=delivery.headers)
        except httpx.TransportError as error:
            log.warning("webhook to %s failed: %s", self.url, type(error).__name__)
            return
        self.statuses.append(response.status_code)
        if response.status_code >= 300:
            log.warning("webhook to %s answered %s", self.url, response.status_code)
