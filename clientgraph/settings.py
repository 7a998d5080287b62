"""Settings, read once from the environment (prefix ``CLIENTGRAPH_``) and passed down.

Nothing else in the code base reads ``os.environ``. Nested sections use ``__`` as delimiter,
e.g. ``CLIENTGRAPH_GRAPHQL__MAX_PAGE_SIZE=200``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from clientgraph.settings_forecasts import ForecastSettings
from clientgraph.settings_http import HttpSettings, RateLimitSettings
from clientgraph.settings_ops import LogSettings, OpsSettings, TelemetrySettings
from clientgraph.settings_streams import SubscriptionSettings

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./clientgraph.db"


class GraphQLSettings(BaseModel):
    """Limits of the public GraphQL API."""

    max_page_size: int = Field(100, ge=1, le=1000, description="Largest `first` accepted.")
    default_page_size: int = Field(20, ge=1, le=1000)
    max_depth: int = Field(10, ge=2, le=50, description="Deepest selection accepted.")
    max_tokens: int = Field(4000, ge=100, description="Largest query document, in tokens.")
    max_aliases: int = Field(30, ge=1)
    max_firm_wide_fields: int = Field(
        6,
        ge=1,
        le=100,
        description="Most fields summing the whole firm one operation may select (portfolio, "
        "forecast, forecast.capacity, billingDelays, timeAnomalies, "
        "portfolio.forecastAccuracy; aliases and fragments count each time): each costs "
        "seconds on a large firm whatever it returns, which the cost does not bound.",
    )
    max_cost: int = Field(
        250_000_000,
        ge=1,
        description="Most objects an operation may be able to return (first × children; "
        "docs/security.md), for roles not in role_max_cost.",
    )
    introspection_roles: list[str] = Field(
        default_factory=lambda: ["account_team", "delivery", "finance", "operator", "admin"],
        description="Roles that may introspect the schema (__schema, __type).",
    )
    suggestion_roles: list[str] = Field(
        default_factory=lambda: ["account_team", "delivery", "finance", "operator", "admin"],
        description="Roles whose validation errors keep graphql's 'Did you mean …?' hints.",
    )
    compiled_reads: bool = Field(
        True,
        description="Answer the queries the planner compiles (resolvers/planner) with one SQL "
        "statement whose JSON is passed through; others run field by field "
        "(resolvers/planner/README.md).",
    )
    short_mutations: bool = Field(
        True,
        description="Run a mutation document the whole pipeline has validated for the same "
        "caller's rules on strawberry's executor alone, without the per-request extensions "
        "(gateway/short_path.py); needs compiled_reads (the short path's switch).",
    )
    compiled_statements_in_flight: int | None = Field(
        None,
        ge=1,
        le=200,
        description="Compiled statements a gateway process runs at once (more wait their "
        "turn in the gateway). On PostgreSQL (readmodel/raw_reads.py) the default is twice "
        "this machine's cores when the database is on this machine (a loopback host or a "
        "Unix socket: its backends share the cores with the gateway, and more runnable "
        "backends only take them from it), else database_pool_size; on SQLite "
        "(resolvers/planner/turns.py: the statements run in the gateway's process) the "
        "cores.",
    )
    response_cache_mb: int = Field(
        64,
        ge=0,
        le=4096,
        description="The exact response cache of compiled answers (resolvers/response_cache.py), "
        "per process: at most this many MiB of answer text, least recently used out first; an "
        "answer is served only while the change counters of the tables it read are unchanged. "
        "0: off.",
    )
    response_cache_lease: bool = Field(
        True,
        description="PostgreSQL: hold the change counters' lease (resolvers/planner/lease.py) "
        "so a response-cache hit runs no statement; committing writers of the read model wait "
        "for the gateways to let go (about a millisecond; at most a second for a stalled "
        "one). Off: each hit reads the counters (one statement, shared by the hits asking "
        "at once).",
    )
    max_operations_per_socket: int = Field(
        20,
        ge=1,
        le=1000,
        description="Operations (subscriptions included) one WebSocket may run at once.",
    )
    request_timeout_seconds: float = Field(
        15.0,
        gt=0,
        le=300,
        description="A query or mutation still running after this is stopped and answered "
        "REQUEST_TIMEOUT; on PostgreSQL every statement of the gateway is also capped at it.",
    )
    trusted_documents_only_roles: list[str] = Field(
        default_factory=lambda: ["partner"],
        description="Roles that may run registered documents only (clientgraph documents).",
    )
    role_max_cost: dict[str, int] = Field(
        default_factory=lambda: {"partner": 25_000_000},
        description="The cost budget of particular roles.",
    )
    max_body_bytes: int = Field(
        1_000_000,
        ge=1024,
        description="Largest request body on /graphql; a longer one is cut off at this size "
        "and answered 413.",
    )
    graphiql: bool = Field(True, description="Serve the GraphiQL IDE on GET /graphql.")
    ide_api_key: SecretStr | None = Field(
        None,
        description="Preset this API key in GraphiQL's headers (the demo sets it; anyone who "
        "can load the page gets the key, so never in production).",
    )


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


class HubSpotSettings(SourceSettings):
    """A HubSpot account's CRM API (or the simulator), through a private app's access token.

    ``webhook_secret`` is the app's *client secret*: HubSpot signs its webhooks with it
    (``X-HubSpot-Signature-v3``).
    """

    base_url: str | None = Field(None, description="https://api.hubapi.com")
    access_token: SecretStr = Field(
        SecretStr(""), description="The private app's access token (Bearer)."
    )
    webhook_url: str | None = Field(
        None,
        description="The public URL HubSpot posts webhooks to, as configured in the app "
        "(it is signed); unset: the URL the request arrived at.",
    )
    requests_per_second: float = Field(
        10.0, gt=0, description="Request-rate cap (HubSpot: 100–190 per 10 s by tier)."
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
    shared_limits: bool = Field(
        True,
        description="With a Redis URL, every process shares each source's concurrency and "
        "request rate through Redis (a source's limits are its account's); false: each "
        "process keeps its own, as when embedded.",
    )
    limit_lease_seconds: float = Field(
        15.0,
        ge=1,
        le=300,
        description="A shared concurrency slot's lease, renewed every third of it while its "
        "request runs: a killed worker's slot frees itself after this long.",
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
    checks_in_statement: bool = Field(
        True,
        description="PostgreSQL: check a command's records (live, in the caller's scope, held "
        "from the owner, in the expected state and currency) inside the statement that logs "
        "it: one round trip per accepted command. Off: read the records first, then log the "
        "command (two round trips; the checks and answers are the same).",
    )

    @field_validator("ownership")
    @classmethod
    def _known_systems(cls, ownership: dict[str, str]) -> dict[str, str]:
        """A typo would route writes to a system nothing executes: refuse it at start-up."""
        unknown = sorted(set(ownership.values()) - WRITABLE_SYSTEMS)
        if unknown:
            raise ValueError(f"unknown systems {unknown}; known: {sorted(WRITABLE_SYSTEMS)}")
        return ownership


ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "ES256", "ES384"})
"""JWT algorithms verified with an IdP's public key (JWKS); anything else is refused."""
MIN_HS256_SECRET_BYTES = 32
"""RFC 7518 §3.2: an HS256 key must be at least as long as the hash output."""


class JwtSettings(BaseModel):
    """Bearer JWTs of an OIDC identity provider: who issues them and how claims map to access."""

    issuer: str | None = Field(
        None, description="The trusted `iss` (exact match); unset turns JWT authentication off."
    )
    audience: str | None = Field(
        None, description="The `aud` a token must name (this gateway's client id or URL)."
    )
    jwks_url: str | None = Field(
        None, description="The identity provider's JWKS document (its public signing keys)."
    )
    algorithms: list[str] = Field(
        default_factory=lambda: ["RS256", "ES256"],
        description="Signature algorithms accepted (JSON list): RS256/RS384/RS512/PS256/ES256/"
        "ES384, and HS256 only when hs256_secret is set. `none` is always refused.",
    )
    hs256_secret: SecretStr | None = Field(
        None, description="Shared secret of HS256 tokens; unset refuses HS256 whatever is listed."
    )
    leeway_seconds: int = Field(
        30, ge=0, le=300, description="Clock skew tolerated on exp, nbf and iat."
    )
    jwks_cache_seconds: int = Field(
        600, ge=1, description="How long fetched signing keys are used before a refetch."
    )
    jwks_refresh_min_seconds: float = Field(
        30.0,
        ge=0,
        description="Least time between two JWKS refetches caused by tokens naming an unknown "
        "`kid`: key rotation is picked up at once, a token-spraying caller cannot hammer the IdP.",
    )
    role_claim: str = Field("clientgraph_role", description="The claim holding the caller's role.")
    accounts_claim: str = Field(
        "clientgraph_accounts",
        description="The claim listing the account ids a partner may see (list or one string).",
    )
    owner_claim: str = Field(
        "name", description="The claim naming the caller for owner fields (a display name)."
    )
    subject_claim: str = Field("sub", description="The claim identifying the principal.")
    timeout_seconds: float = Field(5.0, gt=0, description="Timeout of a JWKS fetch.")

    @model_validator(mode="after")
    def _safe_algorithms(self) -> JwtSettings:
        """Refuse `none`, unknown algorithms and HS* without a secret (algorithm confusion)."""
        secret = self.hs256_secret.get_secret_value() if self.hs256_secret else ""
        if secret and len(secret.encode()) < MIN_HS256_SECRET_BYTES:
            raise ValueError(f"hs256_secret must be at least {MIN_HS256_SECRET_BYTES} bytes")
        allowed = ASYMMETRIC_ALGORITHMS | ({"HS256"} if secret else set())
        refused = sorted(set(self.algorithms) - allowed)
        if refused:
            raise ValueError(
                f"algorithms {refused} refused; allowed: {sorted(allowed)} "
                "(HS256 only with hs256_secret)"
            )
        if not self.algorithms:
            raise ValueError("algorithms must name at least one algorithm")
        return self

    @model_validator(mode="after")
    def _complete_when_on(self) -> JwtSettings:
        """With an issuer set, a token must be checkable: an audience and a source of keys."""
        if self.issuer is None:
            return self
        if not self.audience:
            raise ValueError("jwt.audience is required when jwt.issuer is set")
        if self.jwks_url is None and set(self.algorithms) != {"HS256"}:
            raise ValueError('jwt.jwks_url is required unless algorithms is ["HS256"]')
        return self


def env_name(section: str, field: str) -> str:
    """The environment variable of a section's setting: ``CLIENTGRAPH_TRYTON__PASSWORD``.

    Error messages name settings through this, so a renamed field fails here, not in a
    message that sends an operator to a variable that does not exist.
    """
    model = Settings.model_fields[section].annotation
    assert isinstance(model, type) and field in model.model_fields, (section, field)
    return f"CLIENTGRAPH_{section.upper()}__{field.upper()}"


class AuthSettings(BaseModel):
    """Who may call: API keys always, bearer JWTs when ``jwt.issuer`` is set (docs/security.md)."""

    anonymous_role: str | None = Field(
        None,
        description="Grant callers without credentials this role (local experiments only; "
        "off by default: they get HTTP 401).",
    )
    book_scoped_account_teams: bool = Field(
        False,
        description="Account teams see only the accounts they own (account.owner_name equal "
        "to their owner claim or API key's --owner).",
    )
    partner_mutations: list[str] = Field(
        default_factory=list,
        description="Mutations partners may call (GraphQL names, e.g. logTime); none by "
        "default. Operator actions can never be opened.",
    )
    key_touch_seconds: int = Field(
        60, ge=0, description="An API key's last-used stamp is written at most this often."
    )

    @field_validator("anonymous_role")
    @classmethod
    def _known_role(cls, value: str | None) -> str | None:
        from clientgraph.access.roles import parse_role

        if value is not None and parse_role(value) is None:
            raise ValueError(f"unknown role {value!r}")
        return value

    @field_validator("partner_mutations")
    @classmethod
    def _known_mutations(cls, value: list[str]) -> list[str]:
        from clientgraph.access.policy import mutation_roles

        mutation_roles(value)  # raises on unknown names and operator actions
        return value


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
    database_pool_size: int = Field(
        20,
        ge=1,
        le=200,
        description="PostgreSQL connections a process keeps (opened when first needed); as many "
        "again in overflow, closed on release. A gateway request reads on one connection, so "
        "this many requests in flight never open a new session. A gateway also keeps up to "
        "this many for its compiled statements (readmodel/raw_reads.py).",
    )
    redis_url: SecretStr | None = Field(
        None, description="Redis URL for arq queues; unset means embedded (in-process) jobs."
    )
    log_level: str = "INFO"
    log: LogSettings = LogSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    graphql: GraphQLSettings = GraphQLSettings()
    subscriptions: SubscriptionSettings = SubscriptionSettings()
    salesforce: SalesforceSettings = SalesforceSettings()
    hubspot: HubSpotSettings = HubSpotSettings()
    netsuite: NetSuiteSettings = NetSuiteSettings()
    tryton: TrytonSettings = TrytonSettings()
    sync: SyncSettings = SyncSettings()
    writes: WritesSettings = WritesSettings()
    auth: AuthSettings = AuthSettings()
    jwt: JwtSettings = JwtSettings()
    http: HttpSettings = HttpSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    ops: OpsSettings = OpsSettings()
    forecasts: ForecastSettings = ForecastSettings()

    @property
    def embedded(self) -> bool:
        """True when jobs run in-process (no Redis configured)."""
        return self.redis_url is None
