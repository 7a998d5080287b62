"""The committed SDL (``schema/schema.graphql``) and the command that regenerates it."""

from __future__ import annotations

from pathlib import Path

from schema.build import build_schema

DEFAULT_PATH = Path(__file__).parent / "schema.graphql"


FEDERATION_PLUMBING = ("scalar _Any", "union _Entity ", "type _Service ")
FEDERATION_FIELDS = ("  _entities(", "  _service:")


def sdl() -> str:
    """The served schema as SDL text, ending with a newline.

    Without federation's plumbing (``_entities``, ``_service`` and their types): a supergraph
    reads those from ``{ _service { sdl } }``; clients never call them (docs/api.md). The
    ``@link`` and ``@key`` directives stay: they tell a client which types a supergraph joins.
    """
    blocks = build_schema().as_str().rstrip().split("\n\n")
    kept = [_public(b) for b in blocks if not _plumbing(b)]
    return "\n\n".join(b for b in kept if b).replace("{\n\n", "{\n") + "\n"


def _plumbing(block: str) -> bool:
    return any(line.startswith(FEDERATION_PLUMBING) for line in block.split("\n"))


def _public(block: str) -> str:
    lines = block.split("\n")
    if block.startswith("  ") and any(line.startswith(FEDERATION_FIELDS) for line in lines):
        return ""  # a field with its description
    return "\n".join(line for line in lines if not line.startswith(FEDERATION_FIELDS))


def write_sdl(path: Path = DEFAULT_PATH) -> Path:
    path.write_text(sdl(), encoding="utf-8")
    return path
