"""``clientgraph apikey create | list | revoke``: keys for partners and scripts.

The full key is printed once, by ``create``; the database keeps only its hash. Every create
and revoke is written to the audit log (actor ``cli:<user>``, role admin).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from clientgraph.access.roles import Role
from clientgraph.settings import Settings
from readmodel import api_keys, audit
from readmodel.api_keys import StoredKey
from readmodel.db import create_engine

Commands = argparse._SubParsersAction  # type: ignore[type-arg]

HELP = """\
API keys identify partners and scripts: send one as `Authorization: Bearer cg_…`.
A key has one role (account_team, delivery, finance, operator, admin, partner) and may be
limited to some clients with --account (repeatable): a clientgraph Account id as the API
shows it, or <system>:<source id> (e.g. salesforce:001A000001abcDE), which survives a rebuild
of the read model. A partner key sees only the accounts it names (none if it names none).
What each role may see and do: docs/security.md.
"""


def add_apikey(commands: Commands) -> None:
    p = commands.add_parser(
        "apikey",
        help="create, list and revoke API keys",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = p.add_subparsers(title="actions", metavar="ACTION")
    create = actions.add_parser(
        "create", help="make a key and print it once", description="Make a key; print it once."
    )
    create.add_argument("--name", required=True, help="who or what holds it (shown in lists)")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument(
        "--account",
        action="append",
        metavar="ID",
        help="limit the key to this client (repeat for several); required for partners",
    )
    create.add_argument(
        "--owner",
        help="an account team's book: the account owner name it sees when "
        "CLIENTGRAPH_AUTH__BOOK_SCOPED_ACCOUNT_TEAMS is on",
    )
    create.set_defaults(handler=_create)
    listing = actions.add_parser("list", help="every key, newest first (never the secret)")
    listing.set_defaults(handler=_list)
    revoke = actions.add_parser("revoke", help="end a key at once")
    revoke.add_argument("key_id", help="the key id (list shows it; cg_<key id>_… in the key)")
    revoke.set_defaults(handler=_revoke)
    p.set_defaults(handler=lambda _s, _a: p.print_help() or 2)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:160]
    except (KeyError, OSError):  # no user name in some containers
        return "cli"


def _create(settings: Settings, args: argparse.Namespace) -> int:
    from gateway.auth.authenticate import account_entry

    accounts = args.account
    for entry in accounts or ():
        try:
            account_entry(entry)
        except ValueError as error:
            print(f"clientgraph apikey create: --account {error}", file=sys.stderr)
            return 2
    if args.role == Role.PARTNER and not accounts:
        print("clientgraph apikey create: a partner key needs --account", file=sys.stderr)
        return 2
    key, stored = asyncio.run(create_key(settings, args.name, args.role, accounts, args.owner))
    print(key)
    print(
        f"key id {stored.key_id}, role {stored.role}: store it now, it is not shown again",
        file=sys.stderr,
    )
    return 0


async def create_key(
    settings: Settings, name: str, role: str, accounts: list[str] | None, owner: str | None
) -> tuple[str, StoredKey]:
    engine = create_engine(settings.database_url.get_secret_value())
    now = datetime.now(UTC)
    try:
        key, stored = await api_keys.create(
            engine, name=name, role=role, now=now, accounts=accounts, owner=owner
        )
        await _audit(engine, "apikey create", audit.Outcome.CREATED, stored.key_id, now)
    finally:
        await engine.dispose()
    return key, stored


def _list(settings: Settings, _args: argparse.Namespace) -> int:
    async def run() -> list[StoredKey]:
        engine = create_engine(settings.database_url.get_secret_value())
        try:
            return await api_keys.listed(engine)
        finally:
            await engine.dispose()

    print(f"{'KEY ID':<13} {'NAME':<24} {'ROLE':<13} {'STATE':<8} {'LAST USED':<20} ACCOUNTS")
    for k in asyncio.run(run()):
        state = "revoked" if k.revoked_at else "active"
        used = k.last_used_at.strftime("%Y-%m-%d %H:%M") if k.last_used_at else "never"
        scope = "all" if k.accounts is None else ",".join(k.accounts) or "none"
        print(f"{k.key_id:<13} {k.name[:24]:<24} {k.role:<13} {state:<8} {used:<20} {scope}")
    return 0


def _revoke(settings: Settings, args: argparse.Namespace) -> int:
    async def run() -> StoredKey | None:
        engine = create_engine(settings.database_url.get_secret_value())
        now = datetime.now(UTC)
        try:
            found = await api_keys.revoke(engine, args.key_id, now=now)
            if found is not None:
                await _audit(engine, "apikey revoke", audit.Outcome.REVOKED, args.key_id, now)
            return found
        finally:
            await engine.dispose()

    if asyncio.run(run()) is None:
        print(f"clientgraph apikey revoke: no key {args.key_id}", file=sys.stderr)
        return 1
    print(f"revoked {args.key_id}", file=sys.stderr)
    return 0


async def _audit(
    engine: AsyncEngine, operation: str, outcome: str, key_id: str, now: datetime
) -> None:
    entry = audit.Entry(
        at=now,
        actor_id=_actor(),
        actor_role=Role.ADMIN.value,
        operation=operation,
        outcome=outcome,
        credential_id=key_id,
    )
    await audit.record(engine, entry)
