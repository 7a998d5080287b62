"""Which operation of a document runs: the one ``operationName`` names, or the only one.

Strawberry runs the first operation of a document with several when no ``operationName``
comes; GraphQL's spec ("GetOperation") and GraphQL over HTTP make that a request error. Checked
here, in the schema, so HTTP and the WebSocket answer alike.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from resolvers.errors import ClientError

SEVERAL = "Must provide operation name if query contains multiple operations."  # graphql-js'


class OneOperation(SchemaExtension):
    """A request error (BAD_REQUEST, nothing runs) for several operations and no name."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        named = getattr(context, "_provided_operation_name", None)  # strawberry's, not a field
        if named is None and document is not None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                raise ClientError(SEVERAL)
        yield
