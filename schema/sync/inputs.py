"""The filter of the ``integrationExceptions`` collection."""

from __future__ import annotations

import strawberry

from readmodel.reads.exceptions import ExceptionQuery
from resolvers.inputs import values
from schema.commands.inputs import KEY
from schema.enums import SourceSystem
from schema.sync.types import IntegrationExceptionKind, IntegrationExceptionStatus


@strawberry.input(description="All given conditions must hold; each list allows any of its values.")
class IntegrationExceptionFilter:
    status: list[IntegrationExceptionStatus] | None = None
    kind: list[IntegrationExceptionKind] | None = strawberry.field(
        default=None, description="Any of these kinds."
    )
    system: list[SourceSystem] | None = strawberry.field(
        default=None, description="Any of these source systems."
    )

    def to_query(self) -> ExceptionQuery:
        return ExceptionQuery(
            statuses=values(self.status, "filter.status"),
            kinds=values(self.kind, "filter.kind"),
            systems=values(self.system, "filter.system"),
        )


@strawberry.input(description="Link the record of an identity exception to an existing account.")
class LinkIdentityInput:
    integration_exception_id: strawberry.ID = strawberry.field(
        description="An OPEN identity_unmatched or identity_ambiguous exception (or one already "
        "decided: the new decision replaces the old)."
    )
    account_id: strawberry.ID = strawberry.field(
        description="The live account the record is; e.g. one of the exception's candidates."
    )
    idempotency_key: str = strawberry.field(description=KEY)


@strawberry.input(description="Create an account from, or ignore, an identity exception's record.")
class IdentityActionInput:
    integration_exception_id: strawberry.ID = strawberry.field(
        description="An OPEN identity_unmatched or identity_ambiguous exception (or one already "
        "decided: the new decision replaces the old)."
    )
    idempotency_key: str = strawberry.field(description=KEY)
