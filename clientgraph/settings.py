"""Settings, read once from the environment (prefix ``CLIENTGRAPH_``) and passed down.

Nothing else in the code base reads ``os.environ``. Nested sections use ``__`` as delimiter,
e.g. ``CLIENTGRAPH_GRAPHQL__MAX_PAGE_SIZE=200``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr
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


class SalesforceSettings(BaseModel):
    """A Salesforce org (or the simulator): a connected app's client-credentials OAuth."""

    base_url: str | None = Field(None, description="https://<domain>.my.salesforce.com")
    client_id: str = "clientgraph"
    client_secret: SecretStr = SecretStr("")
    timeout_seconds: float = Field(30.0, gt=0)


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

    @property
    def embedded(self) -> bool:
        """True when jobs run in-process (no Redis configured)."""
        return self.redis_url is None
