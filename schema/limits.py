"""The operation limits, checked before anything runs: tokens, depth, aliases, firm-wide
fields and cost.

Each refusal is a typed error (``QueryTooComplex``: ``extensions.code`` QUERY_TOO_COMPLEX with
the limit that was hit, its value and the measure; ``ParseFailed``: GRAPHQL_PARSE_FAILED), so
the codes never depend on an error message's wording. The budget of cost is per role
(``graphql.max_cost``, ``graphql.role_max_cost``); see ``schema.complexity`` for the measure.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import DocumentNode, GraphQLSyntaxError, Source, TokenKind
from graphql.language.lexer import Lexer
from strawberry.extensions import SchemaExtension

from clientgraph.settings import GraphQLSettings
from resolvers.errors import ParseFailed, QueryTooComplex
from schema.caches import cached_parse
from schema.complexity import FIRM_WIDE, Measure, measure_text

FIRM_WIDE_NAMES = ", ".join(sorted(f"{owner}.{field}" for owner, field in FIRM_WIDE))


def _tokens_over(query: str, limit: int) -> bool:
    """Whether ``query`` has more than ``limit`` tokens (stops counting past the limit)."""
    lexer = Lexer(Source(query))
    count = 0
    try:
        while lexer.advance().kind is not TokenKind.EOF:
            count += 1
            if count > limit:
                return True
    except GraphQLSyntaxError:
        return False
    return False


class OperationLimits(SchemaExtension):
    """Parse (cached) within the token limit, then measure the validated operation."""

    def __init__(self, limits: GraphQLSettings) -> None:
        self.limits = limits

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            context.graphql_document = self._parse(context.query)
        yield

    def _parse(self, query: str) -> DocumentNode:
        limit = self.limits.max_tokens
        try:
            return cached_parse(query, limit)
        except GraphQLSyntaxError as error:
            if _tokens_over(query, limit):
                raise QueryTooComplex(
                    f"the document has more than {limit} tokens",
                    limit="tokens",
                    maximum=limit,
                ) from None
            raise ParseFailed(error) from None

    def on_validate(self) -> Iterator[None]:
        yield
        context = self.execution_context
        if context.pre_execution_errors or context.graphql_document is None:
            return
        found = measure_text(
            self.execution_context.schema._schema,
            context.query,
            context.graphql_document,
            context.operation_name,
            context.variables,
            default_first=self.limits.default_page_size,
        )
        refusal = over_limits(found, self.limits, self._role())
        if refusal is not None:
            raise refusal

    def _role(self) -> str | None:
        principal = getattr(self.execution_context.context, "principal", None)
        return getattr(getattr(principal, "role", None), "value", None)


def over_limits(
    found: Measure, limits: GraphQLSettings, role: str | None
) -> QueryTooComplex | None:
    """The refusal of an operation measured as ``found`` for a caller of ``role``, if any."""
    if found.depth > limits.max_depth:
        return QueryTooComplex(
            f"the operation nests {found.depth} fields deep, more than {limits.max_depth}",
            limit="depth",
            depth=found.depth,
            maximum=limits.max_depth,
        )
    if found.aliases > limits.max_aliases:
        return QueryTooComplex(
            f"the document has {found.aliases} aliases, more than {limits.max_aliases}",
            limit="aliases",
            aliases=found.aliases,
            maximum=limits.max_aliases,
        )
    if found.firm_wide > limits.max_firm_wide_fields:
        return QueryTooComplex(
            f"the operation selects {found.firm_wide} firm-wide fields ({FIRM_WIDE_NAMES}), "
            f"more than {limits.max_firm_wide_fields}",
            limit="firmWideFields",
            firmWideFields=found.firm_wide,
            maximum=limits.max_firm_wide_fields,
        )
    budget = limits.role_max_cost.get(role or "", limits.max_cost)
    if found.cost > budget:
        return QueryTooComplex(
            f"the operation could return {found.cost:,} objects, over the budget of "
            f"{budget:,} (pass smaller `first` values to its lists)",
            limit="cost",
            cost=found.cost,
            budget=budget,
        )
    return None
