"""Assemble the GraphQL schema and its protective extensions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from functools import cached_property
from typing import Any, Final

import strawberry
import strawberry.federation
from graphql import DocumentNode, GraphQLError, MiddlewareManager
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import SchemaExtension
from strawberry.schema._graphql_core import execution_context_class_kwargs
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.utils.await_maybe import await_maybe

from clientgraph.settings import GraphQLSettings
from resolvers.errors import RequestTimeout
from schema.access import MaskedPaths, apply_rules
from schema.caches import CACHE_SIZE, CountedValidationCache
from schema.compiled import CompiledReads
from schema.descriptions import describe
from schema.errors import ErrorCodes, log_internal_errors
from schema.introspection import IntrospectionRules
from schema.limits import OperationLimits
from schema.mutation import Mutation
from schema.operations import OneOperation
from schema.proven import ProvenMutations
from schema.query import Query
from schema.subscription import Subscription
from schema.tracing import OperationSpan

FEDERATION_VERSION: Final = "2.5"  # what @link imports; Apollo's composition knows it since 2023


class RenewContext(SchemaExtension):
    """Give each operation its own clock and loaders where the context outlives one request
    (a WebSocket's: ``Context.renew``)."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        renew = getattr(context, "renew", None)
        if renew is not None:
            renew(context)
        yield


class ClientGraphSchema(strawberry.federation.Schema):
    """The schema, with an overall deadline on every query and mutation (not subscriptions:
    they live as long as their client follows them); an Apollo Federation v2 subgraph
    (``_service``, ``_entities``: docs/api.md)."""

    request_timeout: float = GraphQLSettings().request_timeout_seconds

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        try:
            async with asyncio.timeout_at(self._deadline(kwargs.get("context_value"))):
                return await super().execute(*args, **kwargs)
        except TimeoutError:
            return self.timed_out()

    def _deadline(self, context: Any) -> float:
        """``request_timeout`` from now, or the request's own deadline if it has one already
        (the short path's, when it left the request to this pipeline: gateway/short_path.py)."""
        state = getattr(getattr(context, "request", None), "state", None)
        deadline = getattr(state, "deadline", None)
        if isinstance(deadline, float):
            return deadline
        return asyncio.get_running_loop().time() + self.request_timeout

    def timed_out(self) -> ExecutionResult:
        """The result of an operation stopped at ``request_timeout``."""
        seconds = f"{self.request_timeout:g}"
        error = RequestTimeout(f"the operation ran longer than {seconds} s and was stopped")
        return ExecutionResult(data=None, errors=[error])

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_internal_errors(errors)

    @cached_property
    def resolves_through_extensions(self) -> bool:
        """Whether an extension wraps every field's resolver (none does today): then an
        operation must go through ``execute``, never ``execute_validated``."""
        return any(e._implements_resolve() for e in self.get_extensions())

    async def execute_validated(
        self,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        context: Any,
    ) -> ExecutionResult:
        """Execute ``document``, which this schema's whole pipeline has parsed, validated and
        run before for the same caller's rules (gateway/short_path.py), as ``execute``'s
        execution step does, without the extensions' per-request hooks: graphql-core's
        executor with strawberry's execution context (variables coerced, resolvers, exception
        handlers), errors logged by ``process_errors``. No deadline: the caller keeps one."""
        assert not self.resolves_through_extensions
        result = await await_maybe(
            self._get_execute_function()(
                self._schema,
                document,
                root_value=None,
                middleware=MiddlewareManager(),
                variable_values=variables,
                operation_name=operation_name,
                context_value=context,
                is_awaitable=optimized_is_awaitable,
                **execution_context_class_kwargs(self.execution_context_class),
                **self._get_custom_context_kwargs(None),
            )
        )
        if result.errors:
            self.process_errors(result.errors)
        return ExecutionResult(data=result.data, errors=result.errors)


def guarded_types() -> dict[str, Any]:
    """The object types the field rules name, by GraphQL name."""
    from schema.crm.types import Opportunity
    from schema.delivery.staffing import Assignment, Person, TimeEntry
    from schema.delivery.types import Project
    from schema.finance.types import Payment
    from schema.forecasts.outlook import ProjectOutlook
    from schema.forecasts.time import TimeAnomaly

    guarded: tuple[Any, ...] = (Opportunity, Assignment, Person, TimeEntry, Project, Payment)
    guarded += (TimeAnomaly, ProjectOutlook)
    return {c.__name__: c for c in guarded}


def entity_types() -> list[Any]:
    """The types a supergraph may reference (``@key(fields: "id")``). Listed, because
    strawberry finds keyed types only through plain fields, not lists of connections."""
    from schema.crm.types import Account, Opportunity
    from schema.delivery.staffing import Person
    from schema.delivery.types import Engagement, Project
    from schema.finance.types import Invoice

    return [Account, Opportunity, Engagement, Project, Invoice, Person]


def build_schema(limits: GraphQLSettings | None = None) -> strawberry.Schema:
    """The schema the gateway serves, with parser/validation caches and query limits."""
    limits = limits or GraphQLSettings()
    apply_rules(Query, Subscription, guarded_types())
    extensions: list[Any] = [
        ErrorCodes,
        RenewContext,
        OperationSpan,
        MaskedPaths,
        OneOperation,
        lambda: OperationLimits(limits),
        lambda: CountedValidationCache(maxsize=CACHE_SIZE),
        lambda: IntrospectionRules(limits),  # after validation: it edits validation's errors
        ProvenMutations,  # at execution: validated (gateway/short_path.py)
        CompiledReads,  # last: its result replaces execution (resolvers/planner)
    ]
    schema = ClientGraphSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        types=entity_types(),
        federation_version=FEDERATION_VERSION,
    )
    schema.request_timeout = limits.request_timeout_seconds
    describe(schema._schema)  # enum values' meanings (schema/descriptions.py)
    return schema
