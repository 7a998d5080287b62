"""``Opportunity.readiness`` in SQL: the handoff's seven readiness checks on an open deal.

The per-field path runs ``sync_jobs.handoff.readiness`` (``gather_many`` → ``plan_of`` →
``check``) with no supplied data (an open deal has no handoff). Without supplied data every
fact comes from the deal, its client and its newest live engagement, so each check is a
condition on those rows; this module writes the same conditions, messages and owners (the
constants are the module's own). ``tests/access`` compares both paths' answers for every role
on both backends. What it reads, as ``gather_many`` does: the deal; its client (any state);
its newest live engagement (``opportunity_id``); the client's ERP links (``account_xref``);
the effective rate cards of the deal's service line. Null for a closed deal.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphql import FieldNode, GraphQLObjectType

from resolvers.planner.binding import Fallback
from resolvers.planner.dialect import Dialect
from resolvers.planner.selections import selection_sets
from sync_jobs.handoff.readiness import CHECKS, FINANCE, PMO, SALES
from sync_jobs.handoff.routes import ERP, SUITES
from sync_jobs.handoff.templates import BILLING_METHODS, TEMPLATES

if TYPE_CHECKING:
    from resolvers.planner.compile import _Compiler

SCORES = [round(100 * passed / CHECKS) for passed in range(CHECKS + 1)]
"""``check``'s score by checks passed (``round`` half-even; no ties at 7 checks)."""


def _in(d: Dialect, values: Iterable[str]) -> str:
    return ", ".join(d.literal(v) for v in values)


def readiness_sql(c: _Compiler, nodes: list[FieldNode], t: str) -> str:
    """The ``DealReadiness`` object of the deal row ``t`` (null when it is closed).

    The facts are joins, not subqueries in expressions (SQLite's parser has a fixed depth, and
    this object may sit deep in a page of accounts): the deal's client, its newest live
    engagement, the client's links to the route's ERP and the matching effective rate cards,
    reduced to one row (``max`` over a single group: no row for a closed deal, so null); a
    second layer turns them into each check's failure as 0/1."""
    d = c.dialect
    e, e2, a, x, r, k0, k = (c.name(p) for p in ("e", "e", "a", "x", "r", "k", "k"))
    s = c.name("s")
    suites = _in(d, sorted(SUITES))
    erp = (
        f"(CASE WHEN {t}.source_system IN ({suites}) THEN {t}.source_system "
        f"ELSE {d.literal(ERP)} END)"
    )
    newest = (
        f"(SELECT max({e2}.id) FROM engagement {e2} WHERE {e2}.opportunity_id = {t}.id "
        f"AND {e2}.deleted_at IS NULL)"
    )
    reduced = ", ".join(
        f"max({column}) AS {name}"
        for column, name in (
            (f"{e}.id", "eid"),
            (f"{e}.sold_value_minor", "sold"),
            (f"{e}.billing_method", "method"),
            (f"{e}.currency", "ecur"),
            (f"{x}.account_id", "xref"),
            (f"{r}.id", "card"),
            (f"{a}.source_system", "asys"),
            (f"{a}.source_id", "aid"),
            (f"{a}.name", "aname"),
        )
    )
    joined = (
        f"SELECT {reduced} FROM account {a} "
        f"LEFT JOIN engagement {e} ON {e}.id = {newest} "
        f"LEFT JOIN account_xref {x} ON {x}.account_id = {a}.id AND {x}.system = {erp} "
        f"LEFT JOIN rate_card {r} ON {r}.service_line = {t}.service_line "
        f"AND {r}.status = 'effective' AND {r}.deleted_at IS NULL "
        f"AND {r}.currency = coalesce({e}.currency, {t}.currency) AND {r}.source_system = {erp} "
        f"WHERE {a}.id = {t}.account_id AND NOT {t}.is_closed GROUP BY {a}.id"
    )
    sold = f"(CASE WHEN {k0}.eid IS NULL THEN {t}.amount_minor ELSE {k0}.sold END)"
    failed = [
        f"{t}.service_line IS NULL OR {t}.service_line NOT IN ({_in(d, sorted(TEMPLATES))})",
        f"coalesce({sold}, 0) <= 0",
        f"{k0}.eid IS NULL",  # the start date: the engagement's (never null there)
        f"{k0}.eid IS NULL OR {k0}.method NOT IN ({_in(d, BILLING_METHODS)})",
        f"NOT ({k0}.asys = {erp} AND ({k0}.aid IS NULL OR {k0}.aid <> '')) "
        f"AND ({k0}.aname IS NULL OR {k0}.aname = '') AND {k0}.xref IS NULL",
        f"{erp} NOT IN ({suites}) AND {k0}.card IS NULL",
        f"{k0}.eid IS NOT NULL AND {k0}.method = 'milestone'",
    ]
    owner = (
        f"(CASE WHEN {t}.owner_name IS NULL OR {t}.owner_name = '' THEN {d.literal(SALES)} "
        f"ELSE 'Sales (opportunity owner: ' || {t}.owner_name || ')' END)"
    )
    line = (
        f"(CASE WHEN {t}.service_line IS NULL OR {t}.service_line = '' THEN '?' "
        f"ELSE {t}.service_line END)"
    )
    columns = [f"(CASE WHEN {f} THEN 1 ELSE 0 END) AS f{i}" for i, f in enumerate(failed)]
    columns += [f"{owner} AS owner", f"{line} AS line"]
    columns.append(f"coalesce({k0}.ecur, {t}.currency) AS cur")
    facts = f"SELECT {', '.join(columns)} FROM ({joined}) {k0}"
    missing = " + ".join(f"{k}.f{i}" for i in range(len(failed)))
    gql = c.schema.get_type("DealReadiness")
    assert isinstance(gql, GraphQLObjectType)
    pairs: list[tuple[str, str]] = []
    for key, fields in c.collect(selection_sets(nodes), gql).items():
        name = fields[0].name.value
        if name == "__typename":
            pairs.append((key, d.literal("DealReadiness")))
        elif name == "checks":
            pairs.append((key, str(CHECKS)))
        elif name == "passed":
            pairs.append((key, f"({CHECKS} - ({missing}))"))
        elif name == "score":
            whens = " ".join(f"WHEN {p} THEN {v}" for p, v in enumerate(SCORES))
            pairs.append((key, f"(CASE {CHECKS} - ({missing}) {whens} END)"))
        elif name == "ready":
            pairs.append((key, d.boolean(f"({missing}) = 0")))
        elif name == "issues":
            pairs.append((key, _issues(c, fields, k, s)))
        else:
            raise Fallback(f"DealReadiness.{name}")
    return d.nested(f"(SELECT {d.obj(pairs)} FROM ({facts}) {k})")


def _issues(c: _Compiler, nodes: list[FieldNode], k: str, s: str) -> str:
    """The failed checks in ``check``'s order: field, message, owner."""
    d = c.dialect
    gql = c.schema.get_type("HandoffIssue")
    assert isinstance(gql, GraphQLObjectType)
    card = f"'no effective rate card for ' || {k}.line || ' in ' || {k}.cur"
    issues = [
        ("serviceLine", d.literal("no service line with a template"), f"{k}.owner"),
        ("soldValue", d.literal("the sold value must be above zero"), f"{k}.owner"),
        ("startDate", d.literal("no start date"), d.literal(PMO)),
        ("billingMethod", d.literal("no billing method"), d.literal(FINANCE)),
        (
            "customer",
            d.literal("no ERP customer and no client name to create one"),
            d.literal(FINANCE),
        ),
        ("rateCard", f"({card})", d.literal(PMO)),
        ("milestones", d.literal("milestone billing needs milestones"), f"{k}.owner"),
    ]
    selects = []
    for i, (field, message, owner) in enumerate(issues):
        values = {
            "__typename": d.literal("HandoffIssue"),
            "field": d.literal(field),
            "message": message,
            "owner": owner,
        }
        pairs: list[tuple[str, str]] = []
        for key, fields in c.collect(selection_sets(nodes), gql).items():
            name = fields[0].name.value
            if name not in values:
                raise Fallback(f"HandoffIssue.{name}")
            pairs.append((key, values[name]))
        selects.append(f"SELECT {d.obj(pairs)} AS j, {i} AS o0 WHERE {k}.f{i} = 1")
    rows = f"{' UNION ALL '.join(selects)} ORDER BY o0"
    return d.nested(d.array(rows, s, f"{s}.o0"))
