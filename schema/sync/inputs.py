"""The filter of the ``integrationExceptions`` collection."""

from __future__ import annotations

import re
from collections.abc import Sequence

import strawberry

from readmodel.reads.exceptions import ExceptionQuery
from resolvers.errors import BadUserInput
from resolvers.inputs import strings, values
from schema.commands.inputs import KEY
from schema.enums import SourceSystem
from schema.sync.types import IntegrationExceptionStatus

# Kinds are lower-case words (identity_unmatched): anything else
# is a typo worth telling the client about, not an empty list.
NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@strawberry.input(description="All given conditions must hold; each list allows any of its values.")
class IntegrationExceptionFilter:
    status: list[IntegrationExceptionStatus] | None = None
    kind: list[str] | None = strawberry.field(
        default=None, description="e.g. identity_unmatched, identity_ambiguous, orphaned."
    )
    system: list[SourceSystem] | None = strawberry.field(
        default=None, description="Any of these source systems."
    )

    def to_query(self) -> ExceptionQuery:
        return ExceptionQuery(
            statuses=values(self.status, "filter.status"),
            kinds=_names(self.kind, "filter.kind"),
            systems=values(self.system, "filter.system"),
        )


def _names(items: Sequence[str] | None, argument: str) -> tuple[str, ...] | None:
    names = strings(items, argument)
    for name in names or ():
        if not NAME.match(name):
            raise BadUserInput(f"{argument}: {name!r} is not a lower-case name", argument=argument)
    return names


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
