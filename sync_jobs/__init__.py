"""Keep the read model in step with the systems of record: connectors, pulls, webhooks.

Data flows one way: a connector reads a source and maps its records to canonical rows
(``sync_jobs.rows``); ``sync_jobs.apply`` writes them, guarded by the source's version stamp,
in the same transaction as the pull's checkpoint (``sync_jobs.checkpoints``).
"""
