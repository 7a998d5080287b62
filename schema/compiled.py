"""The compiled read path in the schema's pipeline: after parse, validation and the limits,
a query the planner compiles (resolvers/planner) is answered by one SQL statement instead of
being executed field by field."""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from resolvers.planner import compiled_data
from schema.access import MASKED


class CompiledReads(SchemaExtension):
    """Sets the operation's result (``data``: the database's JSON text) when the context
    allows it (``Context.compiled_reads``: HTTP requests, when the setting is on) and the
    planner compiles the operation; otherwise execution runs as always."""

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        ctx = context.context
        document = context.graphql_document
        if (
            getattr(ctx, "compiled_reads", False)
            and document is not None
            and context.query is not None
            and context.operation_type is OperationType.QUERY
        ):
            data = await compiled_data(
                context.schema._schema,
                document,
                context.query,
                context.operation_name,
                context.variables,
                ctx,
            )
            if data is not None:
                context.result = ExecutionResult(data=data, errors=None)  # type: ignore[arg-type]
                masked = MASKED.get()  # the operation's (schema.access.MaskedPaths)
                if masked is not None:
                    masked.update(data.masked)
        yield
