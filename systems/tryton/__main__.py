"""Build and serve a real Tryton for the demo and tests: ``python -m systems.tryton --help``."""

from __future__ import annotations

import argparse
import secrets
import signal
import sys
from pathlib import Path

from systems.tryton import bootstrap
from systems.tryton.server import TrytonServer
from systems.tryton.site import ADMIN_LOGIN, Site

DESCRIPTION = """\
A real Tryton 8.2 (parties, opportunities, projects, timesheets, invoices) on SQLite.

  bootstrap  create a database in --dir: config file, schema, modules (sale_opportunity,
             project_invoice, timesheet), a USD company with its chart, fiscal years,
             Net 30, an employee and a service priced per hour. The first build takes
             ~30 s and is cached under .cache/tryton/; later ones copy the cache.
  serve      run trytond (in UTC) on --dir's database until Ctrl-C. JSON-RPC answers on
             POST http://127.0.0.1:<port>/<database>/rpc/ (log in as "admin").
"""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "bootstrap":
        return _bootstrap(args)
    return _serve(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m systems.tryton",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("bootstrap", help="create a Tryton database in a directory")
    build.add_argument("--dir", type=Path, required=True, help="directory for config and DB")
    build.add_argument(
        "--password-file",
        type=Path,
        help="file holding the admin password (default: generate one and write it to "
        "<dir>/admin.password, readable by you only)",
    )
    build.add_argument(
        "--demo-data",
        type=int,
        default=0,
        metavar="N",
        help="also create N clients, each with an opportunity, a project, timesheet lines, "
        "and for timesheet-billed projects a posted invoice (some paid)",
    )
    serve = commands.add_parser("serve", help="run trytond on a bootstrapped directory")
    serve.add_argument("--dir", type=Path, required=True, help="a bootstrapped directory")
    serve.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1")
    return parser


def _bootstrap(args: argparse.Namespace) -> int:
    if args.password_file:
        password = args.password_file.read_text().strip()
    else:
        password = secrets.token_urlsafe(18)
        args.dir.mkdir(parents=True, exist_ok=True)
        secret = args.dir / "admin.password"
        secret.touch(mode=0o600)
        secret.write_text(password + "\n")
        print(f"admin password written to {secret}")
    built = bootstrap.create(args.dir, password, demo=args.demo_data)
    source = "built" if built.seconds > 1 else "copied from cache"
    print(f"database {built.site.db_file} ({source}: {built.template})")
    print(f"serve it: python -m systems.tryton serve --dir {args.dir}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    site = Site(args.dir)
    if not site.db_file.exists():
        print(f"no database in {args.dir}: run bootstrap first", file=sys.stderr)
        return 2
    server = TrytonServer(site, args.port)
    signal.signal(signal.SIGTERM, _interrupt)  # stop trytond on SIGTERM too, not only Ctrl-C
    server.start()
    print(f"Tryton JSON-RPC on {server.url} (login {ADMIN_LOGIN}); Ctrl-C stops it")
    try:
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
