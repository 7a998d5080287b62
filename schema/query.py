"""The root ``Query``: single records by id, paged collections, portfolio, freshness."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import strawberry

from readmodel.audit import AuditQuery
from resolvers import audit as audit_resolvers
from resolvers import portfolio as portfolio_resolvers
from resolvers import records
from resolvers import sync as sync_resolvers
from resolvers.commands import queries as command_resolvers
from resolvers.context import context_of
from resolvers.errors import BadUserInput, NotFound
from resolvers.handoffs import queries as handoff_resolvers
from resolvers.ids import from_global_id
from resolvers.once import Once
from schema.audit.types import AuditEntry, AuditFilter
from schema.commands.inputs import CommandFilter
from schema.commands.types import Command
from schema.common.connection import Connection, connection
from schema.common.types import Node
from schema.crm.inputs import (
    DEFAULT_ORDER,
    AccountFilter,
    AccountOrder,
    ContactOrder,
    OpportunityOrder,
)
from schema.crm.types import Account, Contact, Opportunity, as_of_time
from schema.delivery.inputs import EngagementOrder, MilestoneOrder, ProjectFilter, ProjectOrder
from schema.delivery.staffing import Person, TimeEntry
from schema.delivery.types import Engagement, Milestone, Project
from schema.federation import Service, service
from schema.finance.inputs import InvoiceFilter, InvoiceOrder
from schema.finance.types import Invoice, Payment
from schema.forecasts.query import ForecastQuery
from schema.handoffs.inputs import HandoffFilter
from schema.handoffs.types import Handoff
from schema.portfolio.types import Portfolio, SourceFreshness
from schema.sync.inputs import IntegrationExceptionFilter
from schema.sync.types import IntegrationException

NODE_CLASSES: dict[str, Any] = {
    cls.__name__: cls
    for cls in (
        Account,
        Contact,
        Opportunity,
        Engagement,
        Project,
        Milestone,
        Invoice,
        Payment,
        Person,
        TimeEntry,
        Handoff,
        IntegrationException,
    )
}
FIRST = "How many items (default 20, at most the configured maximum, 100 by default)."
AFTER = "The endCursor of the previous page."


async def _node(info: strawberry.Info, global_id: str) -> Any:
    if from_global_id(global_id)[0] == "Command":  # the command log, not a read-model table
        return Command.from_row(await command_resolvers.command(context_of(info), global_id))
    type_name, row = await records.any_record(context_of(info), global_id)
    return NODE_CLASSES[type_name].from_row(row)


async def _node_or_none(info: strawberry.Info, global_id: str) -> Any:
    """One item of ``nodes``: a record the caller may not see is null, like one naming
    nothing (each item is batched with the others by the request's loaders)."""
    try:
        return await _node(info, global_id)
    except NotFound:
        return None


async def _one(info: strawberry.Info, global_id: str, cls: Any) -> Any:
    row = await records.record(context_of(info), global_id, cls.__name__)
    return cls.from_row(row)


async def _listing(
    info: strawberry.Info, cls: Any, first: int | None, after: str | None, order_by: Any
) -> Any:
    """A root list of ``records.LISTS``, in ``order_by``'s order (default: the list's own)."""
    ordering = None if order_by is None else order_by.to_ordering()
    page = await records.listing(context_of(info), cls.__name__, first, after, ordering)
    return connection(page, cls.from_row)


GLOBAL_ID = Annotated[strawberry.ID, strawberry.argument(description="Its global id.")]
First = Annotated[int | None, strawberry.argument(description=FIRST)]
After = Annotated[str | None, strawberry.argument(description=AFTER)]
WHICH = "Only the items that meet every condition given (none: all the caller may see)."


@strawberry.type(description="Reads: one record by id, the root lists, KPIs and freshness.")
class Query(ForecastQuery):
    @strawberry.field(description="Any object by its global id.")
    async def node(self, info: strawberry.Info, id: GLOBAL_ID) -> Node | None:
        return await _node(info, id)

    @strawberry.field(
        description="Any objects by their global ids, in the order asked (1 to the page "
        "maximum): null for an id that names nothing the caller may see (no error); a "
        "malformed id fails its own entry only (BAD_USER_INPUT)."
    )
    async def nodes(
        self,
        info: strawberry.Info,
        ids: Annotated[list[strawberry.ID], strawberry.argument(description="Global ids.")],
    ) -> list[Node | None]:
        most = context_of(info).limits.max_page_size
        if not 1 <= len(ids) <= most:
            raise BadUserInput(f"ids: give 1 to {most} ids", argument="ids")
        return [_node_or_none(info, i) for i in ids]  # type: ignore[misc]  # awaited per item

    @strawberry.field(description="One client by its id (NOT_FOUND if none the caller may see).")
    async def account(self, info: strawberry.Info, id: GLOBAL_ID) -> Account | None:
        return await _one(info, id, Account)  # type: ignore[no-any-return]

    @strawberry.field(description="Clients, paged (ordered by name unless orderBy says otherwise).")
    async def accounts(
        self,
        info: strawberry.Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        filter: Annotated[AccountFilter | None, strawberry.argument(description=WHICH)] = None,
        order_by: Annotated[
            AccountOrder | None, strawberry.argument(description="Default: by name, A to Z.")
        ] = None,
    ) -> Connection[Account]:
        query = (filter or AccountFilter()).to_query()
        ordering = (order_by or DEFAULT_ORDER).to_ordering()
        page = await records.accounts(context_of(info), first, after, query, ordering)
        return connection(page, Account.from_row)

    @strawberry.field(description="One deal by its id (NOT_FOUND if none the caller may see).")
    async def opportunity(self, info: strawberry.Info, id: GLOBAL_ID) -> Opportunity | None:
        return await _one(info, id, Opportunity)  # type: ignore[no-any-return]

    @strawberry.field(description="One contract (SOW) by its id (NOT_FOUND if none visible).")
    async def engagement(self, info: strawberry.Info, id: GLOBAL_ID) -> Engagement | None:
        return await _one(info, id, Engagement)  # type: ignore[no-any-return]

    @strawberry.field(
        description="Contacts at the clients the caller may see; by last name unless orderBy "
        "says otherwise."
    )
    async def contacts(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        order_by: Annotated[
            ContactOrder | None, strawberry.argument(description="Default: by last name, A to Z.")
        ] = None,
    ) -> Connection[Contact]:
        return await _listing(info, Contact, first, after, order_by)

    @strawberry.field(
        description="Deals of the clients the caller may see; by close date unless orderBy "
        "says otherwise."
    )
    async def opportunities(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        order_by: Annotated[
            OpportunityOrder | None,
            strawberry.argument(description="Default: by close date, earliest."),
        ] = None,
    ) -> Connection[Opportunity]:
        return await _listing(info, Opportunity, first, after, order_by)

    @strawberry.field(
        description="Contracts (SOWs) of the clients the caller may see; by name unless "
        "orderBy says otherwise."
    )
    async def engagements(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        order_by: Annotated[
            EngagementOrder | None, strawberry.argument(description="Default: by name, A to Z.")
        ] = None,
    ) -> Connection[Engagement]:
        return await _listing(info, Engagement, first, after, order_by)

    @strawberry.field(
        description="Milestones of the projects the caller may see; by due date unless "
        "orderBy says otherwise."
    )
    async def milestones(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        order_by: Annotated[
            MilestoneOrder | None,
            strawberry.argument(description="Default: by due date, earliest."),
        ] = None,
    ) -> Connection[Milestone]:
        return await _listing(info, Milestone, first, after, order_by)

    @strawberry.field(description="One project by its id (NOT_FOUND if none the caller may see).")
    async def project(self, info: strawberry.Info, id: GLOBAL_ID) -> Project | None:
        return await _one(info, id, Project)  # type: ignore[no-any-return]

    @strawberry.field(description="Projects, paged; by code unless orderBy says otherwise.")
    async def projects(
        self,
        info: strawberry.Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        filter: Annotated[ProjectFilter | None, strawberry.argument(description=WHICH)] = None,
        order_by: Annotated[
            ProjectOrder | None, strawberry.argument(description="Default: by code, A to Z.")
        ] = None,
    ) -> Connection[Project]:
        query = (filter or ProjectFilter()).to_query()
        ordering = records.PROJECT_ORDER if order_by is None else order_by.to_ordering()
        page = await records.projects(context_of(info), first, after, query, ordering)
        return connection(page, Project.from_row)

    @strawberry.field(description="One invoice by its id (NOT_FOUND if none the caller may see).")
    async def invoice(self, info: strawberry.Info, id: GLOBAL_ID) -> Invoice | None:
        return await _one(info, id, Invoice)  # type: ignore[no-any-return]

    @strawberry.field(description="Invoices, paged; by due date unless orderBy says otherwise.")
    async def invoices(
        self,
        info: strawberry.Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        filter: Annotated[InvoiceFilter | None, strawberry.argument(description=WHICH)] = None,
        order_by: Annotated[
            InvoiceOrder | None, strawberry.argument(description="Default: by due date, earliest.")
        ] = None,
    ) -> Connection[Invoice]:
        query = (filter or InvoiceFilter()).to_query()
        ordering = records.INVOICE_ORDER if order_by is None else order_by.to_ordering()
        page = await records.invoices(context_of(info), first, after, query, ordering)
        return connection(page, Invoice.from_row)

    @strawberry.field(
        description="What sync could not settle alone (unmatched or ambiguous clients, "
        "orphans), newest first."
    )
    async def integration_exceptions(
        self,
        info: strawberry.Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        filter: Annotated[
            IntegrationExceptionFilter | None,
            strawberry.argument(description="By status, kind and source system."),
        ] = None,
    ) -> Connection[IntegrationException]:
        query = (filter or IntegrationExceptionFilter()).to_query()
        page = await sync_resolvers.integration_exceptions(context_of(info), first, after, query)
        return connection(page, IntegrationException.from_row)

    @strawberry.field(description="Mutations, operator actions and key changes, newest first.")
    async def audit_log(
        self,
        info: strawberry.Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        filter: Annotated[AuditFilter | None, strawberry.argument(description=WHICH)] = None,
    ) -> Connection[AuditEntry]:
        wanted = filter or AuditFilter()
        query = AuditQuery(
            operations=None if wanted.operation is None else tuple(wanted.operation),
            outcomes=None if wanted.outcome is None else tuple(wanted.outcome),
            actor_id=wanted.actor_id,
        )
        page = await audit_resolvers.audit_log(context_of(info), first, after, query)
        return connection(page, AuditEntry.from_row)

    @strawberry.field(description="One command of the write path, by its global id.")
    async def command(self, info: strawberry.Info, id: GLOBAL_ID) -> Command | None:
        return Command.from_row(await command_resolvers.command(context_of(info), id))

    @strawberry.field(description="The command log, newest first.")
    async def commands(
        self,
        info: strawberry.Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER)] = None,
        filter: Annotated[
            CommandFilter | None,
            strawberry.argument(description="By status, kind and target system."),
        ] = None,
    ) -> Connection[Command]:
        query = (filter or CommandFilter()).to_query()
        page = await command_resolvers.commands(context_of(info), first, after, query)
        return connection(page, Command.from_row)

    @strawberry.field(description="One handoff of a won deal to delivery, by its id.")
    async def handoff(self, info: strawberry.Info, id: GLOBAL_ID) -> Handoff | None:
        row = await handoff_resolvers.handoff(context_of(info), id)
        return None if row is None else Handoff.from_row(row)

    @strawberry.field(
        description="Handoffs by status, longest unchanged first; by default the exception "
        "queue (WAITING_FOR_DATA, FAILED, HALTED)."
    )
    async def handoffs(
        self,
        info: strawberry.Info,
        filter: Annotated[HandoffFilter | None, strawberry.argument(description=WHICH)] = None,
        first: Annotated[int, strawberry.argument(description="1 to the page maximum.")] = 20,
    ) -> list[Handoff]:
        wanted = None if filter is None or not filter.status else [str(s) for s in filter.status]
        rows = await handoff_resolvers.handoffs(context_of(info), wanted, first)
        return [Handoff.from_row(r) for r in rows]

    @strawberry.field(description="Firm-wide KPIs; the period defaults to the 90 days to today.")
    async def portfolio(
        self,
        info: strawberry.Info,
        period_start: Annotated[
            date | None, strawberry.argument(description="First day (default: 90 days ago).")
        ] = None,
        period_end: Annotated[
            date | None, strawberry.argument(description="Last day (default: today).")
        ] = None,
    ) -> Portfolio:
        ctx = context_of(info)
        start, end = portfolio_resolvers.period(ctx, period_start, period_end)
        return Portfolio(
            period_start=start,
            period_end=end,
            as_of=await as_of_time(info),
            figures=Once(lambda: portfolio_resolvers.portfolio_kpis(ctx, start, end)),
        )

    @strawberry.field(
        description="Per source system and object type: last sync, lag, status and pauses. "
        "Every configured source lists all its object types, NEVER until first pulled."
    )
    async def freshness(self, info: strawberry.Info) -> list[SourceFreshness]:
        ctx = context_of(info)
        states = await sync_resolvers.freshness_states(ctx)
        interval = ctx.sync.interval_seconds
        return [SourceFreshness.from_state(s, ctx.now, interval) for s in states]

    federation_service: Service = strawberry.field(
        name="_service",
        resolver=service,
        description="Apollo Federation: this subgraph's SDL (docs/api.md).",
    )
