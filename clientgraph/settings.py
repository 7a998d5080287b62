"""Settings, read once from the environment (prefix ``CLIENTGRAPH_``) and passed down.

Nothing else in the code base reads ``os.environ``. Nested sections use ``__`` as delimiter,
e.g. ``CLIENTGRAPH_GRAPHQL__MAX_PAGE_SIZE=200``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./clientgraph.db"


class GraphQLSettings(BaseModel):
    """Limits of the public GraphQL API."""

    max_page_size: int = Field(100, ge=1, le=1000, description="Largest `first` accepted.")
    default_page_size: int = Field(20, ge=1, le=1000)
    max_depth: int = Field(10, ge=2, le=50, description="Deepest selection accepted.")
    max_tokens: int = Field(4000, ge=100, description="Largest query document, in tokens.")
    max_aliases: int = Field(30, ge=1)
    graphiql: bool = Field(True, description="Serve the GraphiQL IDE on GET /graphql.")


class SourceSettings(BaseModel):
    """What every system of record's connection has: where, how fast, and its webhook secret."""

    base_url: str | None = Field(None, description="The system's base URL (or a simulator's).")
    timeout_seconds: float = Field(30.0, gt=0)
    webhook_secret: SecretStr = Field(
        SecretStr(""),
        description="Secret of POST /webhooks/<source>: a Standard Webhooks `whsec_<base64>` "
        "secret (another value is used as raw key bytes); it also checks the deprecated "
        "X-Clientgraph-Signature scheme. Empty refuses all.",
    )
    max_concurrency: int = Field(4, ge=1, le=64, description="Requests in flight at once.")
    requests_per_second: float = Field(25.0, gt=0, description="Request-rate cap.")


class SalesforceSettings(SourceSettings):
    """A Salesforce org (or the simulator): a connected app's client-credentials OAuth."""

    base_url: str | None = Field(None, description="https://<domain>.my.salesforce.com")
    client_id: str = "clientgraph"
    client_secret: SecretStr = SecretStr("")
    organization_id: str = Field(
        "",
        description="The org's id (00D…, 15 or 18 characters): Outbound Messages from any "
        "other org are refused; empty refuses all.",
    )
    outbound_message_secret: SecretStr = Field(
        SecretStr(""),
        description="The secret in the Outbound Message endpoint URL "
        "(POST /webhooks/salesforce?token=<secret>); empty refuses all.",
    )


class NetSuiteSettings(SourceSettings):
    """A NetSuite account's REST web services (or the simulator): OAuth 2.0 client credentials
    (machine to machine) with a JWT client assertion signed by the integration's certificate
    key (docs/sync.md, "NetSuite: machine-to-machine login")."""

    base_url: str | None = Field(None, description="https://<account>.suitetalk.api.netsuite.com")
    client_id: str = Field(
        "clientgraph", description="The integration record's client ID (the assertion's iss)."
    )
    certificate_id: str = Field(
        "", description="The Certificate ID NetSuite shows for the uploaded certificate (kid)."
    )
    private_key: SecretStr = Field(
        SecretStr(""),
        description="The certificate's private key, PEM text (RSA: PS256, EC P-256: ES256).",
    )
    private_key_file: str | None = Field(
        None, description="Or a file holding that PEM key (read when private_key is empty)."
    )
    scope: str = Field(
        "restlets,rest_webservices",
        description="The assertion's scope: restlets, rest_webservices, suite_analytics, "
        "separated by commas (NetSuite's form).",
    )


class TrytonSettings(SourceSettings):
    """A Tryton server's JSON-RPC (``<base_url>/<database>/``), a user's login and password."""

    base_url: str | None = Field(None, description="http://host:8000 of trytond")
    database: str = "clientgraph"
    login: str = "admin"
    password: SecretStr = SecretStr("")


class SyncSettings(BaseModel):
    """How sync runs: which sources, how often, who owns the client list."""

    sources: list[str] = Field(
        default_factory=list,
        description="Sources to pull on a schedule (JSON list); empty: every configured one.",
    )
    interval_seconds: float = Field(30.0, gt=0, description="Scheduled pull of each object.")
    reconcile_interval_seconds: float = Field(3600.0, gt=0)
    content_reconcile_period_seconds: float = Field(
        86400.0,
        ge=0,
        description="Every record is re-read in full once in this period by the "
        "reconciliations (a slice per run), repairing content no stamp revealed; 0: off.",
    )
    account_master: str = Field(
        "salesforce",
        description="The system whose accounts are the client list; other systems' clients "
        "are linked to them by identity resolution.",
    )
    max_retries: int = Field(5, ge=0, description="Retries of a transient source error.")
    quota_pause_seconds: float = Field(
        3600.0, gt=0, description="How long a source rests after its daily quota ran out."
    )
    webhook_tolerance_seconds: int = Field(
        300, ge=1, description="Oldest webhook timestamp accepted (replay protection)."
    )


DEFAULT_OWNERSHIP: dict[str, str] = {
    "opportunity": "salesforce",
    "project": "netsuite",
    "milestone": "netsuite",
    "time_entry": "netsuite",
    "change_order": "netsuite",
    "invoice": "netsuite",
    "payment": "netsuite",
}
"""Who owns what unless configured: CRM deals in Salesforce, delivery and finance in NetSuite."""
WRITABLE_SYSTEMS = frozenset({"salesforce", "hubspot", "netsuite", "tryton"})


class WritesSettings(BaseModel):
    """The write path: which system owns each entity, and how long reads wait for writes."""

    ownership: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_OWNERSHIP),
        description="Entity (read-model table name) → the system that owns it, as JSON. A "
        "configured map replaces the default whole; a mutation on an entity missing from it "
        "is refused with NO_OWNER.",
    )
    consistency_wait_seconds: float = Field(
        2.0,
        ge=0,
        le=30,
        description="Longest wait of a query sent with X-Consistency-Token for its command.",
    )
    relay_interval_seconds: float = Field(
        5.0,
        gt=0,
        description="How often the gateway queues commands still ACCEPTED (e.g. after Redis "
        "was down when they were accepted), and takes over commands whose worker died.",
    )
    lease_seconds: float = Field(
        30.0,
        ge=1,
        le=600,
        description="A running command's lease: its worker renews it every third of this; "
        "a lease not renewed for this long means the worker died, and the next relay sweep "
        "hands the command to another worker.",
    )

    @field_validator("ownership")
    @classmethod
    def _known_systems(cls, ownership: dict[str, str]) -> dict[str, str]:
        """A typo would route writes to a system nothing executes: refuse it at start-up."""
        unknown = sorted(set(ownership.values()) - WRITABLE_SYSTEMS)
        if unknown:
            raise ValueError(f"unknown systems {unknown}; known: {sorted(WRITABLE_SYSTEMS)}")
        return ownership


def env_name(section: str, field: str) -> str:
    """The environment variable of a section's setting: ``CLIENTGRAPH_TRYTON__PASSWORD``.

    Error messages name settings through this, so a renamed field fails here, not in a
    message that sends an operator to a variable that does not exist.
    """
    model = Settings.model_fields[section].annotation
    assert isinstance(model, type) and field in model.model_fields, (section, field)
    return f"CLIENTGRAPH_{section.upper()}__{field.upper()}"


class Settings(BaseSettings):
    """All of clientgraph's configuration."""

    model_config = SettingsConfigDict(
        env_prefix="CLIENTGRAPH_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    database_url: SecretStr = Field(
        SecretStr(DEFAULT_DATABASE_URL),
        description="SQLAlchemy async URL of the read model: sqlite+aiosqlite:///path "
        "(embedded) or postgresql+asyncpg://user@host/db (production).",
    )
    database_pool_size: int = Field(10, ge=1, le=200)
    redis_url: SecretStr | None = Field(
        None, description="Redis URL for arq queues; unset means embedded (in-process) jobs."
    )
    log_level: str = "INFO"
    graphql: GraphQLSettings = GraphQLSettings()
    salesforce: SalesforceSettings = SalesforceSettings()
    netsuite: NetSuiteSettings = NetSuiteSettings()
    tryton: TrytonSettings = TrytonSettings()
    sync: SyncSettings = SyncSettings()
    writes: WritesSettings = WritesSettings()

    @property
    def embedded(self) -> bool:
        """True when jobs run in-process (no Redis configured)."""
        return self.redis_url is None
