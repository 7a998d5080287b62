"""The committed SDL is exactly what the gateway serves."""

from schema.export import DEFAULT_PATH, sdl


def test_committed_sdl_matches_the_served_schema() -> None:
    assert DEFAULT_PATH.read_text(encoding="utf-8") == sdl(), (
        "schema/schema.graphql is stale: run `make schema` and commit it"
    )
