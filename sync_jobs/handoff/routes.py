"""Which systems a handoff writes to, chosen by the system the won deal lives in.

Most firms sell in a CRM and deliver from an ERP / PSA: a Salesforce deal is set up in
NetSuite (customer, project, billing, staffing) and the project's id goes back to the
Salesforce opportunity. A *suite* is CRM, ERP and PSA at once (Tryton: the party is the
client, ``sale.opportunity`` the deal, ``project.work`` the project): a deal won there is
set up there, every step written by that system's writer. The route is read from the
deal's ``source_system``, so ``advance`` needs no settings; the ownership map must agree
(Tryton deals: ``writes.ownership`` gives opportunity and project to tryton, and
``sync.account_master = "tryton"``, so the party is the client).
"""

from __future__ import annotations

from dataclasses import dataclass

ERP = "netsuite"  # where deals from a CRM of their own are delivered
SUITES = frozenset({"tryton"})  # systems that own clients, deals and projects together


@dataclass(frozen=True)
class Route:
    """The systems one handoff writes.

    Attributes:
        crm: where the deal is; the project's id is written back there.
        erp: where the customer, project, billing rule and staffing are set up.
    """

    crm: str
    erp: str

    @property
    def rate_cards(self) -> bool:
        """Whether the ERP keeps rate cards. A suite prices hours with its own service
        product (Tryton's list price), so the readiness check does not ask for a card."""
        return self.erp not in SUITES

    def system_of(self, side: str) -> str:
        """The system of a step's ``side`` (``"crm"`` or ``"erp"``)."""
        return self.crm if side == "crm" else self.erp


def route_for(deal_system: str) -> Route:
    """The route of a deal held in ``deal_system``."""
    if deal_system in SUITES:
        return Route(crm=deal_system, erp=deal_system)
    return Route(crm=deal_system, erp=ERP)
