"""Webhooks from systems of record: verified, deduplicated hints to re-read records.

A webhook never carries data we trust: it only names records that changed. The receiver
checks the signature and the timestamp (``signature``), turns the body into hints
(``events``), records each event id once (``receive``), and the records named are re-read
from the source (``sync_jobs.refresh``), so the read model only ever holds what the source
itself returned.
"""
