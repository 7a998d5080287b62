"""A Salesforce REST simulator (``/services/data/v60.0``) for tests and the demo."""
