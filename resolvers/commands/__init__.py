"""The write path's accepting side: each mutation validated, routed to its owner, logged.

One module per mutation; ``accept.py`` is the flow they share (idempotency, the log, the
hand-off to the relay), ``ownership.py`` says which system owns what, ``validation.py`` holds
the per-field checks.
"""
