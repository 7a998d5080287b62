"""Who is calling: API keys and OIDC bearer tokens turned into a ``Principal``."""
