"""Create a Tryton database from nothing, or copy a cached template of one.

Building takes ~20 s and more (``trytond-admin`` creates the schema of every module, then
proteus sets up the company), so each build is kept under ``.cache/tryton/<key>/`` and new
databases are file copies of it. The key names everything the build depends on: the
installed Tryton versions, this recipe's revision, the year (fiscal years are built around
it) and the amount of demo data. The template's own admin password is random and thrown
away: every copy gets the password its caller gives.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path

from systems.tryton.site import ADMIN_LOGIN, Site, executable, tryton_env

RECIPE_REVISION = 3  # bump when setup() or demo() in records.py change what they build
MODULES = ("sale_opportunity", "project_invoice", "timesheet")
ADMIN_EMAIL = "admin@clientgraph.invalid"
DEFAULT_CACHE = Path(__file__).resolve().parents[2] / ".cache" / "tryton"


class BootstrapError(Exception):
    """A Tryton command failed; the message holds the tail of its output."""


@dataclass(frozen=True)
class Built:
    """A ready database and how it was made (``seconds`` is the template build, 0 if cached)."""

    site: Site
    template: Path
    seconds: float


def create(
    directory: Path,
    password: str,
    *,
    demo: int = 0,
    cache: Path = DEFAULT_CACHE,
    today: date | None = None,
) -> Built:
    """A Tryton database in ``directory`` whose ``admin`` logs in with ``password``."""
    today = today or datetime.now(UTC).date()
    template = cache / template_key(demo, today)
    started = time.monotonic()
    if not (template / Site(template).db_file.name).exists():
        build_template(template, demo, today)
    seconds = time.monotonic() - started
    return Built(install(template, directory, password), template, seconds)


def install(template: Path, directory: Path, password: str) -> Site:
    """A copy of ``template``'s database in ``directory``; ``admin`` logs in with ``password``."""
    site = Site(directory)
    site.write_config()
    _drop_journal(site)
    shutil.copyfile(Site(template).db_file, site.db_file)
    set_admin_password(site, password)
    return site


def template_key(demo: int, today: date) -> str:
    """A readable, unique name for what a template build depends on."""
    versions = sorted(
        f"{d.metadata['Name']}=={d.version}"
        for d in metadata.distributions()
        if d.metadata["Name"] and d.metadata["Name"].lower().startswith(("trytond", "proteus"))
    )
    digest = hashlib.sha256(f"{RECIPE_REVISION}|{versions}".encode()).hexdigest()[:10]
    return f"{metadata.version('trytond')}-{today.year}-demo{demo}-{digest}"


def build_template(template: Path, demo: int, today: date) -> None:
    """Build from nothing in a scratch directory, then move it into place in one rename.

    Two processes building the same template at once each finish; the second rename loses
    and its copy is dropped, so a reader never sees half a template.
    """
    template.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"{template.name}.", dir=template.parent))
    try:
        site = Site(scratch)
        initialise(site, secrets.token_urlsafe(24), today)
        if demo:
            _run(site, _records("demo", site, today, "--count", str(demo)))
        checkpoint(site)
        site.config_file.unlink()
        try:
            scratch.rename(template)
        except OSError:
            if not template.exists():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def initialise(site: Site, password: str, today: date) -> None:
    """Schema, modules and company setup in an empty ``site`` (no server must be running)."""
    site.write_config()
    site.db_file.touch()
    with tempfile.TemporaryDirectory() as tmp:
        passfile = Path(tmp) / "password"
        passfile.write_text(password + "\n")
        admin = [executable("trytond-admin"), "-c", str(site.config_file), "-d", site.database]
        env = {"TRYTONPASSFILE": str(passfile)}
        _run(site, [*admin, "--all", "--email", ADMIN_EMAIL], env)
        _run(site, [*admin, "-u", *MODULES, "--activate-dependencies"], env)
    _run(site, _records("setup", site, today))


def set_admin_password(site: Site, password: str) -> None:
    """Give ``admin`` this password, written straight into the copy (no server running).

    ``trytond-admin --password`` would do the same but loads every module first (seconds
    per copy); Tryton checks passwords against this argon2 hash (``res.user``).
    """
    import pwdlib
    import pwdlib.hashers.argon2

    hashed = pwdlib.PasswordHash([pwdlib.hashers.argon2.Argon2Hasher()]).hash(password)
    with sqlite3.connect(site.db_file) as conn:
        conn.execute("UPDATE res_user SET password_hash = ? WHERE login = ?", (hashed, ADMIN_LOGIN))
    conn.close()
    checkpoint(site)


def checkpoint(site: Site) -> None:
    """Fold SQLite's write-ahead log into the file, so the file alone is the whole database."""
    conn = sqlite3.connect(site.db_file)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    _drop_journal(site)


def _drop_journal(site: Site) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{site.db_file}{suffix}").unlink(missing_ok=True)


def _records(step: str, site: Site, today: date, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "systems.tryton.records",
        step,
        "--config",
        str(site.config_file),
        "--database",
        site.database,
        "--today",
        today.isoformat(),
        *extra,
    ]


def _run(site: Site, command: list[str], env: dict[str, str] | None = None) -> None:
    """Run a Tryton command in UTC; its output goes to the site's log, its tail into errors."""
    root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    with site.log_file.open("ab") as log:
        done = subprocess.run(
            command,
            env=tryton_env(PYTHONPATH=path, **(env or {})),
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        tail = site.log_file.read_text(errors="replace")[-2000:]
        raise BootstrapError(f"{' '.join(command[:4])} … exited {done.returncode}:\n{tail}")
