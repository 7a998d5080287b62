"""Identity resolution: a client known to a second system is linked, never duplicated.

The account master (``settings.sync.account_master``, Salesforce by default) owns the client
list. A client record of any other system (a NetSuite customer) becomes an ``account_xref``
row pointing at the master's account, matched in this order among live master accounts:

0. an operator's decision (``identity_decisions.py``): link, create or ignore, before any rule;
1. its ``external_id`` (the master's id for it): authoritative; if that account has not
   arrived yet the record waits, it is never matched by name instead;
2. the link it already has (a link once made is not re-decided by fuzzy rules);
3. its normalized domain (several hits are narrowed by normalized name);
4. its normalized name.

Exactly one hit links (version-guarded like every upsert). None or several leaves the record
unapplied: it is deferred, so parking retries it on every pull of its system, and an
``identity_unmatched`` / ``identity_ambiguous`` exception says why, with the candidates. The
exception is resolved by the attempt that links it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from readmodel.tables import Account, AccountXref, table_of
from sync_jobs import exceptions
from sync_jobs.exceptions import AMBIGUOUS, IDENTITY_KINDS, UNMATCHED, Problem
from sync_jobs.identity_decisions import CREATE, IGNORE, Decided, decisions_for, mark_applied
from sync_jobs.rows import CanonicalRow
from sync_jobs.sql import upsert_insert

DEFAULT_ACCOUNT_MASTER = "salesforce"  # settings.sync.account_master's default
OPERATOR = "operator decision"  # the rule of a match an operator made
ACCOUNT = table_of(Account)
XREF = table_of(AccountXref)

# Trailing words that name a legal form, not the client ("Acme Ltd" is "Acme").
LEGAL_SUFFIXES = frozenset(
    {"inc", "incorporated", "llc", "llp", "lp", "ltd", "limited", "gmbh", "mbh", "ag", "kg"}
    | {"sa", "sas", "sarl", "srl", "spa", "bv", "nv", "plc", "pty", "oy", "ab"}
    | {"corp", "corporation", "co", "company"}
)
_SILENT = re.compile(r"[.'’`]")  # "A.B.C." is "ABC", "O'Neil" is "ONeil"
_SEPARATORS = re.compile(r"[\W_]+")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*:)?//")


def normalize_name(name: str | None) -> str:
    """Casefolded, accents and punctuation dropped, legal suffixes and extra spaces removed."""
    text = unicodedata.normalize("NFKD", (name or "").casefold())
    text = "".join(c for c in text if not unicodedata.combining(c)).replace("&", " and ")
    words = _SEPARATORS.sub(" ", _SILENT.sub("", text)).split()
    stripped = False
    while len(words) > 1 and (words[-1] in LEGAL_SUFFIXES or (stripped and words[-1] == "and")):
        words.pop()
        stripped = True
    return " ".join(words)


def normalize_domain(value: str | None) -> str:
    """The bare host: no scheme, user, ``www.``, port, path, query or trailing dot."""
    text = _SCHEME.sub("", (value or "").strip().casefold())
    text = re.split(r"[/?#]", text, maxsplit=1)[0].rpartition("@")[2].split(":", 1)[0]
    text = text.strip(".")
    return text.removeprefix("www.")


@dataclass(frozen=True)
class Candidate:
    """A live account of the master that a record could be."""

    account_id: int
    source_id: str
    name: str
    domain: str | None

    def describe(self) -> dict[str, Any]:
        return {
            "accountId": self.account_id,
            "sourceId": self.source_id,
            "name": self.name,
            "domain": self.domain,
        }


@dataclass(frozen=True)
class Match:
    """How a record was (or was not) matched: ``account_id`` is set on exactly one hit."""

    rule: str
    account_id: int | None = None
    candidates: tuple[Candidate, ...] = ()

    @property
    def problem(self) -> str | None:
        if self.account_id is not None:
            return None
        return AMBIGUOUS if len(self.candidates) > 1 else UNMATCHED


class MasterIndex:
    """The master's live accounts by normalized domain and by normalized name."""

    def __init__(self, candidates: Iterable[Candidate]) -> None:
        self.by_domain: dict[str, list[Candidate]] = defaultdict(list)
        self.by_name: dict[str, list[Candidate]] = defaultdict(list)
        for c in candidates:
            if domain := normalize_domain(c.domain):
                self.by_domain[domain].append(c)
            if name := normalize_name(c.name):
                self.by_name[name].append(c)

    def match(self, name: str | None, domain: str | None) -> Match:
        """Domain first (narrowed by name when it hits several), then name."""
        key = normalize_name(name)
        hits = self.by_domain.get(normalize_domain(domain), []) if domain else []
        if len(hits) > 1:
            hits = [c for c in hits if normalize_name(c.name) == key] or hits
        if hits:
            return _decide("domain", hits)
        return _decide("name", self.by_name.get(key, []) if key else [])


def _decide(rule: str, hits: Sequence[Candidate]) -> Match:
    one = hits[0].account_id if len(hits) == 1 else None
    return Match(rule, one, tuple(hits))


@dataclass
class Linked:
    """What a batch of client records did: links written, unchanged, records still waiting."""

    applied: int = 0
    skipped: int = 0
    deferred: list[CanonicalRow] = field(default_factory=list)


def needs_identity(row: CanonicalRow, account_master: str) -> bool:
    """True for a client record of a system that does not own the client list."""
    return row.table == "account" and row.source_system != account_master


async def link_clients(
    conn: AsyncConnection,
    rows: Sequence[CanonicalRow],
    synced_at: datetime,
    *,
    account_master: str,
    object_type: str,
    decided: dict[str, Decided] | None = None,
) -> Linked:
    """Link client records of a non-master system to the master's accounts (see module doc).

    A fixed number of statements per batch: lookups by external id and by existing link, the
    master's accounts only when some record needs name / domain matching, one batched upsert
    of links, one of exceptions and up to three resolutions, plus the operators' decisions
    (``decided``, read here unless given) and their ``applied_at``. Deletions remove the link.
    """
    result = Linked()
    if not rows:
        return result
    system = rows[0].source_system
    gone = [r for r in rows if r.deleted_at is not None]
    result.applied += await _unlink(conn, gone)
    if decided is None:
        decided = await decisions_for(conn, system, (r.source_id for r in rows))
    ignored = [r for r in rows if r.deleted_at is None and _ignored(decided, r)]
    live = [r for r in rows if r.deleted_at is None and not _ignored(decided, r)]
    matches = await _match_all(conn, live, account_master, decided)
    linked = [(r, matches[r.source_id]) for r in live if matches[r.source_id].account_id]
    result.applied += await _upsert_links(conn, linked, object_type, synced_at)
    result.deferred = [r for r in live if matches[r.source_id].account_id is None]
    result.skipped = len(rows) - result.applied - len(result.deferred)
    problems = [_problem(r, matches[r.source_id], account_master, object_type) for r in live]
    settled = [r.source_id for r, _ in linked] + [r.source_id for r in gone + ignored]
    await _settle(conn, system, object_type, [p for p in problems if p], settled, synced_at)
    honoured = [r.source_id for r, m in linked if m.rule == OPERATOR]
    await mark_applied(conn, system, honoured + [r.source_id for r in ignored], synced_at)
    return result


def _operator(decided: dict[str, Decided], row: CanonicalRow) -> Decided | None:
    """The decision that settles this record, if any (a link to a gone account does not)."""
    decision = decided.get(row.source_id)
    if decision is None or (decision.action != CREATE and decision.account_id is None):
        return None
    return decision


def _ignored(decided: dict[str, Decided], row: CanonicalRow) -> bool:
    decision = decided.get(row.source_id)
    return decision is not None and decision.action == IGNORE


async def _match_all(
    conn: AsyncConnection,
    rows: Sequence[CanonicalRow],
    master: str,
    decided: dict[str, Decided],
) -> dict[str, Match]:
    ruled = [r for r in rows if _operator(decided, r) is None]
    wanted = {r.external_id for r in ruled if r.external_id}
    external = {c.source_id: c for c in await _masters(conn, master, wanted)} if wanted else {}
    links = await _existing_links(conn, rows[0].source_system if rows else "", ruled)
    fuzzy = [r for r in ruled if not r.external_id and r.source_id not in links]
    index = MasterIndex(await _masters(conn, master) if fuzzy else ())
    return {r.source_id: _choose(r, decided, external, links, index) for r in rows}


def _choose(
    row: CanonicalRow,
    decided: dict[str, Decided],
    external: dict[str, Candidate],
    links: dict[str, int],
    index: MasterIndex,
) -> Match:
    if decision := _operator(decided, row):  # a create whose account is not written yet waits
        return Match(OPERATOR, decision.account_id)
    if row.external_id:
        hit = external.get(row.external_id)
        return _decide("external id", [hit] if hit else [])
    if row.source_id in links:
        return Match("existing link", links[row.source_id])
    return index.match(row.values.get("name"), row.values.get("domain"))


async def _masters(
    conn: AsyncConnection, master: str, source_ids: set[str] | None = None
) -> list[Candidate]:
    """Live master accounts: these ids, or all (names and domains compare once normalized)."""
    t = ACCOUNT
    stmt = select(t.c.id, t.c.source_id, t.c.name, t.c.domain).where(
        t.c.source_system == master, t.c.deleted_at.is_(None)
    )
    if source_ids is not None:
        stmt = stmt.where(t.c.source_id.in_(source_ids))
    return [Candidate(*r) for r in await conn.execute(stmt)]


async def _existing_links(
    conn: AsyncConnection, system: str, rows: Sequence[CanonicalRow]
) -> dict[str, int]:
    """Links already made for these records, to accounts that are still live."""
    wanted = {r.source_id for r in rows if not r.external_id}
    if not wanted:
        return {}
    stmt = (
        select(XREF.c.source_id, XREF.c.account_id)
        .join(ACCOUNT, ACCOUNT.c.id == XREF.c.account_id)
        .where(
            XREF.c.system == system, XREF.c.source_id.in_(wanted), ACCOUNT.c.deleted_at.is_(None)
        )
    )
    return {source_id: account_id for source_id, account_id in await conn.execute(stmt)}


async def _upsert_links(
    conn: AsyncConnection,
    linked: Sequence[tuple[CanonicalRow, Match]],
    object_type: str,
    synced_at: datetime,
) -> int:
    """One batched upsert; an older version of a record never moves its link."""
    if not linked:
        return 0
    params = [
        {
            "account_id": match.account_id,
            "system": row.source_system,
            "object_type": object_type,
            "source_id": row.source_id,
            "source_version": row.source_version,
            "synced_at": synced_at,
        }
        for row, match in linked
    ]
    stmt = upsert_insert(conn, XREF)
    changed = ("account_id", "object_type", "source_version", "synced_at")
    stmt = stmt.on_conflict_do_update(
        index_elements=["system", "source_id"],
        set_={c: stmt.excluded[c] for c in changed},
        # newer; or as new and pointing elsewhere (sources stamp whole seconds, see apply.py)
        where=or_(
            XREF.c.source_version < stmt.excluded.source_version,
            and_(
                XREF.c.source_version == stmt.excluded.source_version,
                XREF.c.account_id.is_distinct_from(stmt.excluded.account_id),
            ),
        ),
    ).returning(XREF.c.id)
    return len((await conn.execute(stmt, params)).all())


async def _unlink(conn: AsyncConnection, rows: Sequence[CanonicalRow]) -> int:
    """Drop the links of deleted records, unless the link holds a newer version."""
    stmt = delete(XREF).where(
        XREF.c.system == bindparam("b_system"),
        XREF.c.source_id == bindparam("b_id"),
        XREF.c.source_version <= bindparam("b_version"),
    )
    done = 0
    for r in rows:
        params = {"b_system": r.source_system, "b_id": r.source_id, "b_version": r.source_version}
        done += (await conn.execute(stmt, params)).rowcount
    return done


def _problem(row: CanonicalRow, match: Match, master: str, object_type: str) -> Problem | None:
    kind = match.problem
    if kind is None or match.rule == OPERATOR:
        return None
    name = row.values.get("name")
    if kind == AMBIGUOUS:
        ids = ", ".join(c.source_id for c in match.candidates)
        count = len(match.candidates)
        message = f"{name!r} matches {count} {master} accounts by {match.rule}: {ids}"
    elif row.external_id:
        message = f"{name!r}: external id {row.external_id} names no live {master} account"
    else:
        message = f"{name!r} matches no live {master} account by external id, domain or name"
    details = {
        "name": name,
        "domain": row.values.get("domain"),
        "externalId": row.external_id,
        "rule": match.rule,
        "candidates": [c.describe() for c in match.candidates],
    }
    return Problem(kind, row.source_system, object_type, row.source_id, message, details)


async def _settle(
    conn: AsyncConnection,
    system: str,
    object_type: str,
    problems: Sequence[Problem],
    settled: Sequence[str],
    at: datetime,
) -> None:
    """Record open problems; resolve the rest (linked, deleted, or now another kind)."""
    await exceptions.record(conn, problems, at)
    for kind in IDENTITY_KINDS:  # a record has at most one open identity exception
        other = [p.source_id for p in problems if p.kind != kind]
        await exceptions.resolve(conn, system, other, (kind,), at, object_type=object_type)
    await exceptions.resolve(conn, system, settled, IDENTITY_KINDS, at, object_type=object_type)
