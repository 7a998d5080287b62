"""The ``clientgraph`` command line. Every sub-command explains itself with ``--help``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from clientgraph.apikey_cli import add_apikey
from clientgraph.documents_cli import add_documents
from clientgraph.forecast_cli import add_forecast
from clientgraph.settings import Settings

DESCRIPTION = """\
clientgraph: one GraphQL graph over a services firm's CRM, PSA and ERP, from pipeline to cash.

Reads come from a read model in SQL (SQLite by default, PostgreSQL in production) that sync
jobs keep up to date. Configuration comes from CLIENTGRAPH_* environment variables; the main
ones are CLIENTGRAPH_DATABASE_URL and CLIENTGRAPH_REDIS_URL (see docs/configuration.md).

First run:  clientgraph demo      (migrate, seed a synthetic firm, serve on :8000)
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    settings = Settings()
    handler: Callable[[Settings, argparse.Namespace], int] = args.handler
    return handler(settings, args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clientgraph",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_serve(commands)
    _add_migrate(commands)
    _add_seed(commands)
    _add_figures(commands)
    _add_schema(commands)
    _add_sync(commands)
    _add_worker(commands)
    _add_demo(commands)
    add_apikey(commands)
    add_documents(commands)
    add_forecast(commands)
    return parser


def _add_serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "serve",
        help="serve the GraphQL gateway",
        description="Serve the GraphQL API on /graphql (GraphiQL in a browser), with /healthz "
        "and /readyz. The read model must be migrated first (clientgraph migrate).",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default %(default)s)")
    p.add_argument("--port", type=int, default=8000, help="port (default %(default)s)")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="gateway processes (default %(default)s; more than one needs CLIENTGRAPH_REDIS_URL)",
    )
    p.set_defaults(handler=_serve)


def _add_migrate(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "migrate",
        help="create or upgrade the read model's tables",
        description="Apply the schema migrations to CLIENTGRAPH_DATABASE_URL. Safe to repeat.",
    )
    p.set_defaults(handler=_migrate)


def _add_seed(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "seed",
        help="fill the read model with a synthetic, deterministic services firm",
        description="Generate a realistic firm (account hierarchies, pipeline, contracts, "
        "projects in all billing methods, time, milestones, invoices and payments in two "
        "currencies) and bulk-insert it. The same --accounts, --seed and --today give the "
        "same firm. Refuses to write into a read model that already holds accounts unless "
        "--reset is given.",
    )
    p.add_argument("--accounts", type=int, default=200, help="top-level clients (default 200)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default %(default)s)")
    _today_and_quiet(p, "the firm's 'today' as YYYY-MM-DD (default: the real today, UTC)")
    p.add_argument("--reset", action="store_true", help="delete existing rows first")
    p.set_defaults(handler=_seed)


def _today_and_quiet(p: argparse.ArgumentParser, today: str) -> None:
    p.add_argument("--today", type=date.fromisoformat, default=None, help=today)
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_figures(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "figures",
        help="the stored figures and health the compiled read path reads",
        description="Figures and health are stored per account and kept current by every "
        "write; health depends on the date, so it is refreshed each day (the worker's "
        "cron at 00:00 UTC, or the gateway itself in embedded mode). `figures refresh` does "
        "it now, e.g. after restoring a backup or on a deployment without workers.",
    )
    actions = p.add_subparsers(title="actions", metavar="ACTION")
    refresh = actions.add_parser(
        "refresh",
        help="recompute every account whose stored health is not of today (or is stale)",
        description="Recompute the stored figures and health of every account not stored "
        "as of --today (default: the real today, UTC), 500 accounts per transaction.",
    )
    _today_and_quiet(
        refresh, "the date health is measured against, YYYY-MM-DD (default: today, UTC)"
    )
    refresh.set_defaults(handler=_figures_refresh)


def _add_schema(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("schema", help="work with the GraphQL schema (SDL)")
    sub = p.add_subparsers(title="schema commands", metavar="ACTION")
    export = sub.add_parser(
        "export",
        help="write the served schema as SDL",
        description="Write the GraphQL schema the gateway serves, as SDL. The committed "
        "schema/schema.graphql must equal it (a test checks).",
    )
    export.add_argument(
        "--output", type=Path, default=None, help="file (default: schema/schema.graphql)"
    )
    export.set_defaults(handler=_schema_export)
    check = sub.add_parser(
        "check",
        help="compare the served schema with the released SDL (breaking changes)",
        description="Compare the served schema with schema/released.graphql using graphql-core's "
        "breaking-change finder. Exit 1 when a breaking change has no row in "
        "docs/schema-changelog.md, or a removal was not @deprecated first.",
    )
    check.add_argument("--released", type=Path, default=None, help="the released SDL")
    check.add_argument("--changelog", type=Path, default=None, help="the changelog")
    check.set_defaults(handler=_schema_check)


def _add_sync(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "sync",
        help="pull changes from a system of record into the read model now",
        description="Pull every object of a source (parents first) from its last checkpoint, "
        "page by page; each page commits with its checkpoint, so an interrupted sync resumes "
        "where it stopped. --full reads everything again (unchanged records write nothing). "
        "The source's connection comes from settings, e.g. CLIENTGRAPH_SALESFORCE__BASE_URL "
        "and CLIENTGRAPH_SALESFORCE__CLIENT_SECRET.",
    )
    p.add_argument(
        "--source",
        required=True,
        choices=["salesforce", "hubspot", "netsuite", "tryton"],
        help="which system (its connection comes from CLIENTGRAPH_<SOURCE>__* settings)",
    )
    p.add_argument("--full", action="store_true", help="forget checkpoints: a full backfill")
    p.add_argument(
        "--object",
        action="append",
        dest="objects",
        metavar="TYPE",
        help="only this object type (repeatable), e.g. account",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_sync)


def _add_worker(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "worker",
        help="run the arq worker: scheduled sync pulls and queued jobs",
        description="Run the arq worker on Redis: it pulls every configured source each "
        "CLIENTGRAPH_SYNC__INTERVAL_SECONDS (parents first; a source whose daily quota ran out "
        "rests for CLIENTGRAPH_SYNC__QUOTA_PAUSE_SECONDS), reconciles each source each "
        "CLIENTGRAPH_SYNC__RECONCILE_INTERVAL_SECONDS, and runs jobs the gateway queues "
        "(webhook refreshes), and executes commands (mutations) from their own queue. Needs "
        "CLIENTGRAPH_REDIS_URL (e.g. redis://127.0.0.1:6379/0); without it the gateway runs "
        "sync in-process instead. Run as many workers as you like: each scheduled pull runs "
        "once per slot, and a dead worker's command is taken over by another within "
        "CLIENTGRAPH_WRITES__LEASE_SECONDS plus one sweep. The worker rides out Redis outages "
        "(it waits and reconnects). Stop with Ctrl-C (SIGINT) or SIGTERM.",
    )
    p.add_argument(
        "--burst", action="store_true", help="run the queued jobs, then exit (no schedule)"
    )
    p.add_argument(
        "--health-port",
        type=int,
        default=None,
        help="serve /healthz, /readyz (503 while Redis or the database is unreachable) and "
        "/metrics (scrape token or operator key) on HOST:PORT",
    )
    p.add_argument(
        "--health-host",
        default="127.0.0.1",
        help="address of the --health-port server (default %(default)s; 0.0.0.0 for a "
        "Prometheus on another host)",
    )
    p.set_defaults(handler=_worker)


def _add_demo(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "demo",
        help="serve the gateway with simulated Salesforce and NetSuite (or Tryton), filled by sync",
        description="The first run. Migrates the read model, generates a synthetic firm and "
        "serves it from a simulated Salesforce (CRM) and a simulated NetSuite (ERP and PSA) "
        "mounted on the same port under /simulators/salesforce/ and /simulators/netsuite/. "
        "The read model is filled the production way: the in-process runner pulls both every "
        "few seconds, and each simulator sends signed webhooks for every change. Change a "
        "record at the source with curl (the demo prints how) and watch it arrive in "
        "http://127.0.0.1:PORT/graphql. Credentials of the simulators are made up at start. "
        "With --erp tryton a real Tryton 8.2 replaces NetSuite: the same firm's parties, "
        "employees, projects, timesheet lines and invoices are loaded into a SQLite database "
        "in .clientgraph-demo/tryton/ next to the read model (next to the SQLite file, or in "
        "the working directory for PostgreSQL), and trytond runs on a free local port until "
        "the demo stops. The first load takes ~50 s for 40 accounts, ~5 min for 200 (with a "
        "progress bar); the loaded database is cached under .cache/tryton/ per (--accounts, "
        "--today), so the next demo of the same firm starts in seconds. Salesforce stays the "
        "account master: "
        "Tryton's parties are linked to its accounts by domain or name. Tryton's admin "
        "password is CLIENTGRAPH_TRYTON__PASSWORD, else made up and written to "
        ".clientgraph-demo/tryton/admin.password.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--accounts", type=int, default=200, help="clients in the firm (default 200)")
    p.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        help="the firm's 'today' as YYYY-MM-DD (default: the real today, UTC)",
    )
    p.add_argument(
        "--erp",
        choices=["netsuite", "tryton"],
        default="netsuite",
        help="the ERP/PSA: the simulated NetSuite, or a real Tryton started by the demo "
        "(default %(default)s)",
    )
    p.add_argument(
        "--crm",
        choices=["salesforce", "hubspot"],
        default="salesforce",
        help="the CRM and account master: a simulated Salesforce or a simulated HubSpot, "
        "mounted under /simulators/<crm>/ (default %(default)s)",
    )
    p.set_defaults(handler=_demo)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from gateway.serve import serve

    if args.workers > 1 and settings.embedded:
        # embedded, each process would run its own sync runner and command executor, and
        # only a shared queue (arq on Redis) keeps one command from being applied twice
        print(
            "clientgraph serve: --workers > 1 needs CLIENTGRAPH_REDIS_URL (embedded mode runs "
            "sync and commands inside the one gateway process)",
            file=sys.stderr,
        )
        return 2
    serve(settings, host=args.host, port=args.port, workers=args.workers)
    return 0


def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from clientgraph.tasks import migrate_database

    asyncio.run(migrate_database(settings))
    return 0


def _seed(settings: Settings, args: argparse.Namespace) -> int:
    from clientgraph.tasks import SeedRefused, seed_database

    try:
        asyncio.run(
            seed_database(
                settings,
                accounts=args.accounts,
                seed=args.seed,
                today=args.today,
                reset=args.reset,
                progress=not args.quiet,
            )
        )
    except SeedRefused as refused:
        print(f"clientgraph seed: {refused}", file=sys.stderr)
        return 1
    return 0


def _figures_refresh(settings: Settings, args: argparse.Namespace) -> int:
    from clientgraph.tasks import refresh_figures

    asyncio.run(refresh_figures(settings, today=args.today, progress=not args.quiet))
    return 0


def _sync(settings: Settings, args: argparse.Namespace) -> int:
    from clientgraph.telemetry.setup import observe
    from sync_jobs.backfill import sync_source
    from sync_jobs.connectors.registry import NotConfigured
    from sync_jobs.errors import SourceError

    observe(settings, "cli", "console")
    try:
        result = asyncio.run(
            sync_source(
                settings, args.source, full=args.full, objects=args.objects, progress=not args.quiet
            )
        )
    except (NotConfigured, SourceError) as error:
        print(f"clientgraph sync: {error}", file=sys.stderr)
        return 1
    print(f"synced {args.source}: {result.summary()}", file=sys.stderr)
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from clientgraph.telemetry.setup import observe
    from sync_jobs.connectors.registry import NotConfigured
    from sync_jobs.worker import run_worker

    if settings.redis_url is None:
        print("clientgraph worker: set CLIENTGRAPH_REDIS_URL (the arq queue)", file=sys.stderr)
        return 1
    observe(settings, "worker", "json")
    try:
        run_worker(
            settings,
            burst=args.burst,
            health_port=args.health_port,
            health_host=args.health_host,
        )
    except NotConfigured as error:
        print(f"clientgraph worker: {error}", file=sys.stderr)
        return 1
    return 0


def _schema_export(_settings: Settings, args: argparse.Namespace) -> int:
    from schema.export import DEFAULT_PATH, write_sdl

    path = write_sdl(args.output or DEFAULT_PATH)
    print(f"wrote {path}")
    return 0


def _schema_check(_settings: Settings, args: argparse.Namespace) -> int:
    from schema.governance import CHANGELOG_PATH, RELEASED_PATH, check

    report = check(args.released or RELEASED_PATH, args.changelog or CHANGELOG_PATH)
    for kind, lines in (("breaking", report.breaking), ("dangerous", report.dangerous)):
        for line in lines:
            print(f"{kind}: {line}")
    for problem in report.problems:
        print(f"clientgraph schema check: {problem}", file=sys.stderr)
    print(
        f"{len(report.breaking)} breaking, {len(report.dangerous)} dangerous, "
        f"{len(report.problems)} unrecorded"
    )
    return 0 if report.ok else 1


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from clientgraph.demo import (
        IDE_ROLE,
        DemoSources,
        create_demo_app,
        demo_keys,
        demo_settings,
        explain,
        with_ide_key,
    )
    from clientgraph.demo_tryton import ErpError, running_erp
    from clientgraph.tasks import migrate_database
    from clientgraph.telemetry.setup import observe
    from gateway.serve import serve_app

    observe(settings, "gateway", "console")
    asyncio.run(migrate_database(settings))
    sources = DemoSources.invent(args.host, args.port, settings, erp=args.erp, crm=args.crm)
    today = args.today or datetime.now(UTC).date()
    try:
        with running_erp(settings, sources, accounts=args.accounts, today=today) as sources:
            demo = demo_settings(settings, sources)
            keys = asyncio.run(demo_keys(demo))
            demo = with_ide_key(demo, keys[IDE_ROLE])
            app = create_demo_app(demo, sources, accounts=args.accounts, today=today)
            partner = f"{args.crm}:{app.state.demo_account_id}"
            keys |= asyncio.run(demo_keys(demo, partner_account=partner))
            print(explain(sources, app.state.demo_account_id, keys), file=sys.stderr)
            serve_app(app, demo, host=args.host, port=args.port, log_format="console")
    except ErpError as error:
        print(f"clientgraph demo: the {args.erp} ERP did not start: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
