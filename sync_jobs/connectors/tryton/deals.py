"""Opportunity commands at Tryton: field writes and moves through ``sale.opportunity``'s buttons.

Tryton's states and our stages (``mapping.stage`` reads them back the same way):

=============  ================================  ======================================
stage          Tryton state                      reached from (buttons clicked)
=============  ================================  ======================================
prospecting    lead                              opportunity (``lead``)
qualification  opportunity, probability < 50 %   lead (``opportunity``)
proposal       opportunity, probability ≥ 50 %   lead (``opportunity``)
negotiation    converted (a draft sale exists)   lead (``opportunity``, ``convert``),
                                                 opportunity (``convert``)
closed_lost    lost                              lead, opportunity (``lost``)
closed_won     won                               only ``mark_opportunity_won``
=============  ================================  ======================================

Any other move (out of converted, won, lost or cancelled) has no button in Tryton and is
refused with ``InvalidPayload``. Tryton stamps ``end_date`` with its own today when a deal
closes (won, lost), whatever close date was asked.

Winning: Tryton has no "won" button; an opportunity is won when its sale is confirmed. So
``mark_opportunity_won`` converts it (a draft sale), fills an empty sale with one line of
the deal's amount (else Tryton would reset the amount to the sale's: zero), marks that sale
invoiced and shipped manually (winning a deal must not bill the client: billing goes
through projects), then quotes and confirms it; Tryton then marks the opportunity won.

Each step starts from the state Tryton holds now, and fields are written only where they
differ, so a repeat after any failure finishes the walk without doing anything twice.
Field writes send the record's ``_timestamp``: a concurrent edit raises
``ConcurrencyConflict``; the record is read again and written once more, and a second
conflict is left to the executor's retry (it is transient).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sync_jobs.commands.writes import InvalidPayload, Payload, WriteResult
from sync_jobs.connectors.tryton.client import ConcurrencyConflict, TrytonClient
from sync_jobs.connectors.tryton.payload import iso_day, number, record_id
from sync_jobs.errors import PermanentSourceError

MODEL = "sale.opportunity"
FIELDS = ("state", "amount", "conversion_probability", "end_date", "description", "_timestamp")
STATE_OF_STAGE = {
    "prospecting": "lead",
    "qualification": "opportunity",
    "proposal": "opportunity",
    "negotiation": "converted",
    "closed_lost": "lost",
}
BUTTONS: dict[tuple[str, str], tuple[str, ...]] = {  # (from, to) → buttons, in order
    ("lead", "opportunity"): ("opportunity",),
    ("lead", "converted"): ("opportunity", "convert"),
    ("lead", "lost"): ("lost",),
    ("opportunity", "lead"): ("lead",),
    ("opportunity", "converted"): ("convert",),
    ("opportunity", "lost"): ("lost",),
}
# mapping.stage places an open opportunity by probability: below this it is qualification.
PROPOSAL_FROM = Decimal("0.5")
# The probability set when a stage is asked without one and the current one contradicts
# it (as Salesforce sets a stage's default probability when the stage changes).
STAGE_PROBABILITY = {"qualification": Decimal("0.25"), "proposal": Decimal("0.5")}
OPEN_SALES = ("draft", "quotation")
CLOSED = ("won", "lost", "cancelled")  # Tryton makes these read-only
Values = dict[str, Any]


async def update_opportunity(client: TrytonClient, p: Payload, key: str) -> WriteResult:
    """Write amount, probability and end date where they differ, then move the state."""
    kind = "update_opportunity"
    opportunity = record_id(kind, p, "opportunity_id")

    def changes(record: Values) -> Values:
        buttons(kind, p.get("stage"), record["state"])  # refuse before writing anything
        if record["state"] in CLOSED:  # closed by our earlier attempt: read-only, done
            return {}
        return _differences(record, _wanted(kind, p, record))

    record = await write_fresh(client, MODEL, opportunity, FIELDS, changes)
    for button in buttons(kind, p.get("stage"), record["state"]):
        await client.button(MODEL, button, [opportunity])
    return WriteResult("opportunity", str(opportunity))


async def mark_opportunity_won(client: TrytonClient, p: Payload, key: str) -> WriteResult:
    """Convert, then quote and confirm the deal's sale: Tryton marks the opportunity won."""
    kind = "mark_opportunity_won"
    opportunity = record_id(kind, p, "opportunity_id")
    (record,) = await client.read(MODEL, [opportunity], FIELDS)
    state = record["state"]
    if state == "won":
        return WriteResult("opportunity", str(opportunity))
    if state not in ("lead", "opportunity", "converted"):
        raise InvalidPayload(kind, f"the opportunity is {state} in Tryton")
    for button in BUTTONS.get((state, "converted"), ()):
        await client.button(MODEL, button, [opportunity])
    await _confirm_sales(client, record)
    (after,) = await client.read(MODEL, [opportunity], ["state"])
    if after["state"] != "won":
        detail = f"opportunity {opportunity} is {after['state']} after its sale was confirmed"
        raise PermanentSourceError("NOT_WON", detail)
    return WriteResult("opportunity", str(opportunity))


def buttons(kind: str, stage: str | None, state: str) -> tuple[str, ...]:
    """The buttons that move an opportunity from ``state`` to ``stage``'s state, in order."""
    if stage is None:
        return ()
    if stage == "closed_won":
        raise InvalidPayload(kind, "use mark_opportunity_won: Tryton wins a deal by its sale")
    target = STATE_OF_STAGE.get(stage)
    if target is None:
        raise InvalidPayload(kind, f"unknown stage {stage!r}")
    if target == state:
        return ()
    path = BUTTONS.get((state, target))
    if path is None:
        raise InvalidPayload(kind, f"Tryton cannot move a {state} opportunity to {stage}")
    return path


def _wanted(kind: str, p: Payload, record: Values) -> Values:
    wanted: Values = {}
    if p.get("amount") is not None:
        wanted["amount"] = number(kind, p, "amount")
    if p.get("close_date") is not None:
        wanted["end_date"] = iso_day(kind, p, "close_date")
    probability = _probability(kind, p, record)
    if probability is not None:
        wanted["conversion_probability"] = probability
    return wanted


def _probability(kind: str, p: Payload, record: Values) -> Decimal | None:
    """The probability to hold: the one given, else one that agrees with the stage asked.

    Tryton has one open state for qualification and proposal; the probability tells them
    apart, so a given probability that contradicts the stage is refused.
    """
    given = None if p.get("probability") is None else number(kind, p, "probability") / 100
    stage = p.get("stage")
    if stage not in STAGE_PROBABILITY:
        return given

    def fits(value: Decimal) -> bool:
        return (value >= PROPOSAL_FROM) == (stage == "proposal")

    if given is not None:
        if not fits(given):
            side = "at least" if stage == "proposal" else "below"
            raise InvalidPayload(kind, f"{stage} in Tryton is a probability {side} 50 %")
        return given
    current = Decimal(str(record.get("conversion_probability") or 0))
    return None if fits(current) else STAGE_PROBABILITY[stage]


def _differences(record: Values, wanted: Values) -> Values:
    """What must be written; a Float field (the probability) goes out as a float."""
    changes: Values = {}
    for name, value in wanted.items():
        now = record.get(name)
        if name == "conversion_probability":
            if Decimal(str(now or 0)) != value:
                changes[name] = float(value)
        elif now != value:
            changes[name] = value
    return changes


async def write_fresh(
    client: TrytonClient,
    model: str,
    record: int,
    fields: tuple[str, ...],
    changes_of: Callable[[Values], Values],
) -> Values:
    """Read ``record``, write ``changes_of(it)`` guarded by its ``_timestamp``; on a
    conflict read and write once more. Returns the record as read before the write."""
    try:
        return await _write_once(client, model, record, fields, changes_of)
    except ConcurrencyConflict:
        return await _write_once(client, model, record, fields, changes_of)


async def _write_once(
    client: TrytonClient,
    model: str,
    record: int,
    fields: tuple[str, ...],
    changes_of: Callable[[Values], Values],
) -> Values:
    (current,) = await client.read(model, [record], fields)
    changes = changes_of(current)
    if changes:
        stamp = {"_timestamp": {f"{model},{record}": current["_timestamp"]}}
        await client.write(model, [record], changes, context=stamp)
    return dict(current)


async def _confirm_sales(client: TrytonClient, opportunity: Values) -> None:
    """Quote and confirm the opportunity's open sales, filling an empty one first."""
    origin = f"{MODEL},{opportunity['id']}"
    sales = await client.search_read(
        "sale.sale", [["origin", "=", origin], ["state", "in", OPEN_SALES]], ["state", "lines"]
    )
    if not sales:
        raise PermanentSourceError("NO_SALE", f"opportunity {opportunity['id']} has no open sale")
    for sale in sales:
        if sale["state"] == "draft" and not sale["lines"]:
            await client.write("sale.sale", [sale["id"]], _deal_line(opportunity))
    drafts = [s["id"] for s in sales if s["state"] == "draft"]
    if drafts:
        await client.button("sale.sale", "quote", drafts)
    await client.button("sale.sale", "confirm", [s["id"] for s in sales])


def _deal_line(opportunity: Values) -> Values:
    """One line for the whole deal, invoiced and shipped by hand (no invoice at confirm)."""
    line = {
        "type": "line",
        "quantity": 1.0,
        "unit_price": opportunity.get("amount") or Decimal(0),
        "description": opportunity.get("description") or f"Opportunity {opportunity['id']}",
    }
    return {
        "invoice_method": "manual",
        "shipment_method": "manual",
        "lines": [["create", [line]]],
    }
