"""A running command's lease: how a dead worker's command is taken over in seconds.

An attempt claims its command with a fresh token and a lease of ``writes.lease_seconds``
(``command.lease_token`` / ``lease_expires_at``), and renews it every third of that while it
works. Every change the attempt makes to the row is guarded by its token, so once the lease
lapses and another worker claims the command, the first one can no longer move it.

* A worker SIGKILLed mid-command stops renewing: the lease lapses within ``lease_seconds``
  and the next relay sweep hands the command to another worker (``relay.take_over``).
* A job cancelled in an orderly way (SIGTERM, arq's timeout) gives its lease back at once.
* An attempt whose renewal finds the lease taken cancels itself: someone else owns it now.

Leases use the wall clock (UTC), not a job's injectable clock: they are shared between
processes.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from readmodel import command_log
from readmodel.types import utcnow

log = logging.getLogger(__name__)


class Lease:
    """One attempt's hold on one command."""

    def __init__(self, engine: AsyncEngine, command_id: int, seconds: float) -> None:
        self.engine = engine
        self.command_id = command_id
        self.seconds = seconds
        self.token = secrets.token_hex(16)

    def until(self, now: datetime | None = None) -> datetime:
        """When a lease taken or renewed ``now`` lapses."""
        return (now or utcnow()) + timedelta(seconds=self.seconds)

    @asynccontextmanager
    async def kept(self) -> AsyncIterator[Lease]:
        """Renew the lease while the body runs; give it back if the body is cancelled."""
        owner = asyncio.current_task()
        beat = asyncio.create_task(self._beat(owner), name=f"lease-command-{self.command_id}")
        try:
            yield self
        except asyncio.CancelledError:
            await asyncio.shield(self._release())
            raise
        finally:
            beat.cancel()
            with suppress(asyncio.CancelledError):
                await beat

    async def _beat(self, owner: asyncio.Task[object] | None) -> None:
        while True:
            await asyncio.sleep(self.seconds / 3)
            try:
                async with self.engine.begin() as conn:
                    kept = await command_log.renew_lease(
                        conn, self.command_id, self.token, lease_until=self.until()
                    )
            except Exception:  # a database blip: try again; the lease may lapse meanwhile
                log.warning("command %s: lease not renewed", self.command_id, exc_info=True)
                continue
            if not kept:
                log.warning("command %s: lease taken over, attempt abandoned", self.command_id)
                if owner is not None:
                    owner.cancel()
                return

    async def _release(self) -> None:
        try:
            async with self.engine.begin() as conn:
                await command_log.release_lease(conn, self.command_id, self.token, now=utcnow())
        except Exception:  # it lapses by itself within lease_seconds
            log.warning("command %s: lease not released", self.command_id, exc_info=True)
