"""The committed SDL (``schema/schema.graphql``) and the command that regenerates it."""

from __future__ import annotations

from pathlib import Path

from schema.build import build_schema

DEFAULT_PATH = Path(__file__).parent / "schema.graphql"


def sdl() -> str:
    """The served schema as SDL text, ending with a newline."""
    return build_schema().as_str().rstrip() + "\n"


def write_sdl(path: Path = DEFAULT_PATH) -> Path:
    path.write_text(sdl(), encoding="utf-8")
    return path
