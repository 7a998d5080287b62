"""``clientgraph documents register | list``: the operations a partner may run.

Each file is one document (one or more operations, as a client sends it); its id is
``sha256:<hex digest of the file's exact UTF-8 text>``. Clients send that id as
``documentId`` instead of ``query``. A file that is not valid GraphQL against the schema is
refused, nothing of it stored.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from clientgraph.settings import Settings

Commands = argparse._SubParsersAction  # type: ignore[type-arg]

HELP = """\
Trusted documents: operations registered ahead of time. A request may send
{"documentId": "sha256:<hex>", "variables": …} instead of its query text, and callers whose
role is in CLIENTGRAPH_GRAPHQL__TRUSTED_DOCUMENTS_ONLY_ROLES (partners by default) may run
registered documents only. docs/security.md says more.
"""


def add_documents(commands: Commands) -> None:
    p = commands.add_parser(
        "documents",
        help="register the operations partners may run (trusted documents)",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = p.add_subparsers(title="actions", metavar="ACTION")
    register = actions.add_parser(
        "register", help="store .graphql files, print each one's documentId"
    )
    register.add_argument("files", nargs="+", type=Path, metavar="FILE.graphql")
    register.set_defaults(handler=_register)
    listing = actions.add_parser("list", help="every registered document")
    listing.set_defaults(handler=_list)
    p.set_defaults(handler=lambda _s, _a: p.print_help() or 2)


def _register(settings: Settings, args: argparse.Namespace) -> int:
    from graphql import GraphQLError, parse, validate

    from schema.build import build_schema

    schema = build_schema(settings.graphql)._schema
    bodies: list[tuple[Path, str]] = []
    for path in args.files:
        try:
            body = path.read_text(encoding="utf-8")
            problems = validate(schema, parse(body))
        except (OSError, UnicodeDecodeError, GraphQLError) as error:
            print(f"clientgraph documents register: {path}: {error}", file=sys.stderr)
            return 1
        if problems:
            print(f"clientgraph documents register: {path}: {problems[0].message}", file=sys.stderr)
            return 1
        bodies.append((path, body))
    for path, digest in asyncio.run(_store(settings, bodies)):
        print(f"sha256:{digest}  {path}")
    return 0


async def _store(settings: Settings, bodies: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
    from readmodel import trusted_documents
    from readmodel.db import create_engine

    engine = create_engine(settings.database_url.get_secret_value())
    now = datetime.now(UTC)
    try:
        return [
            (path, await trusted_documents.register(engine, body, name=path.name, now=now))
            for path, body in bodies
        ]
    finally:
        await engine.dispose()


def _list(settings: Settings, _args: argparse.Namespace) -> int:
    from readmodel import trusted_documents
    from readmodel.db import create_engine

    async def run() -> list[trusted_documents.Registered]:
        engine = create_engine(settings.database_url.get_secret_value())
        try:
            return await trusted_documents.listed(engine)
        finally:
            await engine.dispose()

    for doc in asyncio.run(run()):
        print(f"sha256:{doc.sha256}  {doc.registered_at:%Y-%m-%d %H:%M}  {doc.name or ''}")
    return 0
