"""The serving process's garbage collector: what startup built is not scanned again.

A full collection scans every object the collector tracks. The schema, the modules and the
tables' metadata that startup builds are ~170,000 of them and live as long as the process, so
each full collection stalled every request in flight for 60–120 ms (measured on the bench's
2-core machine: the p99 spikes of 100 mutations/s). ``settle()`` collects once, then freezes
what is left (``gc.freeze``): later collections scan only what was made since.

Called once by each serving process after its app is built (``clientgraph serve``, and
``gateway.asgi`` for other ASGI servers) — never by code that builds many apps in one process,
such as the tests: a frozen object is never freed.
"""

from __future__ import annotations

import gc


def settle() -> int:
    """Collect, then freeze the survivors; how many objects are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
