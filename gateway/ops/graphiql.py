"""GraphiQL without the internet: its scripts and styles served from the package.

Strawberry's GraphiQL page loads React, GraphiQL, its explorer plugin and js-cookie from
unpkg. ``make install`` runs ``python -m gateway.ops.graphiql`` once, which fetches exactly
the versions that page names with ``npm pack`` (the npm registry, the same files unpkg serves)
into ``gateway/ops/graphiql_assets/<package>@<version>/``; the gateway serves them under
``/graphql/assets/`` and rewrites the page's URLs to them. The page's ``integrity`` hashes stay,
so a browser still checks each file is the one strawberry pinned. An asset not vendored keeps
its unpkg URL (and a warning is logged): the IDE then needs the internet, as before.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import tarfile
import tempfile
from functools import cache
from pathlib import Path

from strawberry.http.ides import get_graphql_ide_html

log = logging.getLogger(__name__)
ASSETS = Path(__file__).parent / "graphiql_assets"
PREFIX = "/graphql/assets/"
UNPKG = re.compile(r"https://unpkg\.com/((?:@[\w.-]+/)?[\w.-]+@[\w.-]+)/([\w./-]+)")
"""``https://unpkg.com/<package>@<version>/<path>`` (scoped packages too)."""


def assets_named(html: str) -> list[tuple[str, str]]:
    """``(package@version, path)`` of each unpkg asset the page loads."""
    return [(m.group(1), m.group(2)) for m in UNPKG.finditer(html)]


@cache
def offline(html: str) -> str:
    """The page with each vendored asset's URL pointing at ``/graphql/assets/``."""

    def local(match: re.Match[str]) -> str:
        package, path = match.group(1), match.group(2)
        if (ASSETS / package / path).is_file():
            return f"{PREFIX}{package}/{path}"
        log.warning("GraphiQL asset %s/%s is not vendored: run make install", package, path)
        return match.group(0)

    return UNPKG.sub(local, html)


def vendor(html: str, target: Path = ASSETS) -> list[Path]:
    """Fetch every asset ``html`` names that ``target`` lacks, with ``npm pack``."""
    wanted: dict[str, list[str]] = {}
    for package, path in assets_named(html):
        if not (target / package / path).is_file():
            wanted.setdefault(package, []).append(path)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        for package, paths in wanted.items():
            written += _unpack(_pack(package, Path(tmp)), package, paths, target)
    return written


def _pack(package: str, into: Path) -> Path:
    command = ["npm", "pack", "--silent", "--pack-destination", str(into), package]
    name = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return into / name.strip().splitlines()[-1]


def _unpack(tarball: Path, package: str, paths: list[str], target: Path) -> list[Path]:
    written = []
    with tarfile.open(tarball) as archive:
        for path in paths:
            source = archive.extractfile(f"package/{path}")
            if source is None:
                raise FileNotFoundError(f"{package} has no {path}")
            destination = target / package / path
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(source.read())
            written.append(destination)
    return written


def main() -> None:
    """``python -m gateway.ops.graphiql``: vendor what strawberry's GraphiQL page loads."""
    written = vendor(get_graphql_ide_html("graphiql"))
    for path in written:
        print(f"vendored {path.relative_to(ASSETS)}", file=sys.stderr)


if __name__ == "__main__":
    main()
