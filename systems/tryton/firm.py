"""The demo's Tryton: the ERP/PSA half of a generated firm, cached per (accounts, seed, today).

``clientgraph demo --erp tryton`` serves the same firm as the default demo, with Tryton in
NetSuite's place. ``plan`` picks what Tryton gets from the firm's rows (pure; kept small so
a load stays fast: at most ``MAX_PROJECTS`` projects, ``MAX_TIME`` timesheet lines and
``MAX_INVOICES`` invoices per client), ``firm_records`` writes it through proteus, and the
loaded database is kept as a template under ``.cache/tryton/``: the firm is deterministic,
so a second demo with the same firm copies a file instead of loading again.

Parties are named exactly as the CRM's accounts and carry their website: Salesforce stays
the account master, and identity resolution links each party to its account by domain
(several accounts of a large firm share a normalized name), else by name.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from systems.tryton import bootstrap
from systems.tryton.site import Site, tryton_env

FIRM_REVISION = 2  # bump when plan(), firm_records or the seed change what a template holds
MAX_PROJECTS = 3
MAX_TIME = 10
MAX_INVOICES = 3
DEFAULT_RATE = Decimal("150.00")
DEFAULT_COST = Decimal("60.00")
# Our billing methods → Tryton's project invoice methods (the reverse of the connector's
# mapping). Tryton requires a method on a project: retainers and non-billable work are
# invoiced "manually" there, which the connector reads back as milestone billing.
METHODS = {
    "time_and_materials": "timesheet",
    "fixed_fee": "progress",
    "milestone": "manual",
    "retainer": "manual",
    "non_billable": "manual",
}
Row = dict[str, Any]


@dataclass(frozen=True)
class Prepared:
    """A ready database, and whether its firm was loaded now (``seconds``) or copied."""

    site: Site
    template: Path
    loaded: bool
    seconds: float


def prepare(
    directory: Path,
    password: str,
    *,
    accounts: int,
    seed: int,
    today: date,
    cache: Path = bootstrap.DEFAULT_CACHE,
    progress: bool = True,
    say: Callable[[str], None] = lambda _: None,
) -> Prepared:
    """A Tryton database holding the firm in ``directory``; ``admin`` logs in with ``password``.

    The directory's previous database is replaced: like the simulators, the demo's ERP
    starts from the generated firm on every run.
    """
    template = cache / template_key(accounts, seed, today)
    started = time.monotonic()
    loaded = not (template / Site(template).db_file.name).exists()
    if loaded:
        say(f"loading {accounts} accounts' ERP/PSA records into Tryton (once per firm)")
        build(template, accounts=accounts, seed=seed, today=today, progress=progress)
    seconds = time.monotonic() - started
    return Prepared(bootstrap.install(template, directory, password), template, loaded, seconds)


def template_key(accounts: int, seed: int, today: date) -> str:
    """The base template's key (Tryton versions, recipe) plus what the firm depends on."""
    base = bootstrap.template_key(0, today)
    return f"{base}-firm{FIRM_REVISION}-a{accounts}-s{seed}-{today.isoformat()}"


def build(template: Path, *, accounts: int, seed: int, today: date, progress: bool) -> None:
    """Copy the base template into a scratch directory, load the firm, move it into place
    in one rename (a reader never sees half a template; of two racing builds one wins)."""
    from readmodel.seed import SeedConfig, generate_all

    template.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"{template.name}.", dir=template.parent))
    try:
        site = bootstrap.create(
            scratch, secrets.token_urlsafe(24), cache=template.parent, today=today
        ).site
        rows = generate_all(SeedConfig(accounts=accounts, seed=seed, today=today))
        plan_file = scratch / "plan.json"
        plan_file.write_text(json.dumps(plan(rows, today)))
        _load(site, plan_file, progress)
        bootstrap.checkpoint(site)
        site.config_file.unlink()
        plan_file.unlink()
        try:
            scratch.rename(template)
        except OSError:
            if not template.exists():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _load(site: Site, plan_file: Path, progress: bool) -> None:
    """Run the proteus loader in its own process; its progress bar goes to our stderr."""
    root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    command = [
        sys.executable, "-m", "systems.tryton.firm_records", "--config",
        str(site.config_file), "--database", site.database, "--plan", str(plan_file),
    ]  # fmt: skip
    with site.log_file.open("ab") as log:
        done = subprocess.run(
            [*command, *([] if progress else ["--quiet"])],
            env=tryton_env(PYTHONPATH=path),
            stdout=log,
            check=False,
        )
    if done.returncode != 0:
        tail = site.log_file.read_text(errors="replace")[-2000:]
        raise bootstrap.BootstrapError(f"loading the firm exited {done.returncode}:\n{tail}")


def plan(rows: dict[str, list[Row]], today: date) -> dict[str, Any]:
    """What Tryton gets from the firm's rows, as plain JSON values.

    The clients are the accounts the ERP knows (those with an ERP customer record). Each
    keeps its latest projects, the latest time booked on them, and its latest invoices
    issued within Tryton's fiscal years (last year, this year).
    """
    erp_clients = {x["account_id"] for x in rows.get("account_xref", [])}
    people = rows.get("person", [])
    context = _Context(rows, {p["id"]: i for i, p in enumerate(people)}, today)
    return {
        "since": date(today.year - 2, 1, 1).isoformat(),
        "employees": [context.employee(p) for p in people],
        "clients": [context.client(a) for a in rows["account"] if a["id"] in erp_clients],
    }


class _Context:
    """The firm's rows grouped for ``plan``: by account, by project, by person."""

    def __init__(self, rows: dict[str, list[Row]], people: dict[int, int], today: date) -> None:
        self.people = people
        self.first_day = date(today.year - 1, 1, 1)
        self.today = today
        self.projects = _group(rows.get("project", []), "account_id")
        self.time = _group(rows.get("time_entry", []), "project_id")
        self.invoices = _group(rows.get("invoice", []), "account_id")
        self.costs = {t["person_id"]: t["cost_rate_minor"] for t in rows.get("time_entry", [])}

    def employee(self, person: Row) -> dict[str, Any]:
        cost = self.costs.get(person["id"])
        return {
            "name": person["name"],
            "email": person["email"],
            "cost": str(DEFAULT_COST if cost is None else _money(cost)),
        }

    def client(self, account: Row) -> dict[str, Any]:
        projects = self.projects.get(account["id"], [])[-MAX_PROJECTS:]
        domain = account.get("domain")
        return {
            "name": account["name"],
            "website": f"https://{domain}" if domain else None,
            "projects": [self._project(p) for p in projects],
            "time": self._time(projects),
            "invoices": self._invoices(self.invoices.get(account["id"], [])),
        }

    def _project(self, project: Row) -> dict[str, Any]:
        booked = self.time.get(project["id"], [])
        rate = _money(booked[0]["bill_rate_minor"]) if booked else DEFAULT_RATE
        return {
            "name": project["name"],
            "method": METHODS.get(project["billing_method"], "manual"),
            "rate": str(rate),
            "effort_hours": max(project["budget_hours_x100"] / 100, 1.0),
        }

    def _time(self, projects: list[Row]) -> list[dict[str, Any]]:
        entries = [
            (t["work_date"], i, t)
            for i, p in enumerate(projects)
            for t in self.time.get(p["id"], [])
            if t["person_id"] in self.people and t["work_date"] <= self.today
        ]
        latest = sorted(entries, key=lambda e: (e[0], e[2]["id"]))[-MAX_TIME:]
        return [
            {
                "project": index,
                "employee": self.people[entry["person_id"]],
                "date": day.isoformat(),
                "hours": entry["hours_x100"] / 100,
            }
            for day, index, entry in latest
        ]

    def _invoices(self, invoices: list[Row]) -> list[dict[str, Any]]:
        kept = [i for i in invoices if self.first_day <= i["issue_date"] <= self.today]
        latest = sorted(kept, key=lambda i: (i["issue_date"], i["id"]))[-MAX_INVOICES:]
        return [_invoice(i) for i in latest]


def _invoice(invoice: Row) -> dict[str, Any]:
    """Draft stays draft, void is cancelled, the rest is posted and paid as far as it was."""
    status = invoice["status"]
    state = {"draft": "draft", "void": "cancelled"}.get(status, "posted")
    paid = invoice["total_minor"] - invoice["balance_minor"] if state == "posted" else 0
    return {
        "description": f"Services, {invoice['number']}",
        "date": invoice["issue_date"].isoformat(),
        "total": str(_money(invoice["total_minor"])),
        "state": state,
        "paid": str(_money(max(paid, 0))),
    }


def _group(rows: list[Row], key: str) -> dict[Any, list[Row]]:
    grouped: dict[Any, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    return grouped


def _money(minor: int) -> Decimal:
    return (Decimal(minor) / 100).quantize(Decimal("0.01"))
