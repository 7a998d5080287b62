"""``CommandRejected``: the typed error half of every mutation's ``CommandResult``."""

from __future__ import annotations

import strawberry

from resolvers.commands.errors import CommandRefused, RefusalCode
from schema.commands.enums import CommandRejectionCode  # noqa: F401  (registers the enum)


@strawberry.type(description="One input field that is wrong, and why.")
class FieldError:
    field: str = strawberry.field(description="The input field, e.g. amount.currency.")
    message: str = strawberry.field(description="What is wrong with it.")


@strawberry.type(description="The mutation was refused; nothing was logged or sent.")
class CommandRejected:
    code: RefusalCode = strawberry.field(description="A stable code to branch on.")
    message: str = strawberry.field(description="A sentence for people.")
    fields: list[FieldError] = strawberry.field(
        description="Per-field problems (VALIDATION_FAILED); empty otherwise."
    )

    @classmethod
    def from_refusal(cls, refusal: CommandRefused) -> CommandRejected:
        return cls(
            code=refusal.code,
            message=refusal.message,
            fields=[FieldError(field=p.field, message=p.message) for p in refusal.fields],
        )
