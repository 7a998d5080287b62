"""Documents to throw at the gateway: hypothesis-graphql over the committed SDL, with scalar
strategies that mix what a client means (real ids of the seeded firm, dates and amounts the
read model holds) with what an attacker or a careless client sends (ids of other types, past
BIGINT or not canonical, dates out of range, huge or hostile text).

The values are written into the document as literals, so every case is one self-contained
document: the reproduction of a failure is the document Hypothesis prints.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import date
from functools import cache
from pathlib import Path

import graphql
import hypothesis_graphql
from hypothesis import strategies as st
from hypothesis_graphql import nodes

from resolvers.ids import to_global_id
from resolvers.pagination import CURSOR_VERSION

SDL = Path(__file__).parents[2] / "schema" / "schema.graphql"


@cache
def schema() -> graphql.GraphQLSchema:
    # the SDL names federation's directives (@link, @key) without declaring them: a subgraph's
    # SDL does, the supergraph declares them
    return graphql.build_schema(SDL.read_text(), assume_valid_sdl=True)


def root_fields(kind: str) -> list[str]:
    """The fields of ``Query`` or ``Mutation``, in schema order."""
    root = schema().query_type if kind == "query" else schema().mutation_type
    assert root is not None
    return list(root.fields)


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# Ids no client should get an answer for but NOT_FOUND / BAD_USER_INPUT.
_JUNK_IDS = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            _b64("Account:0"),
            _b64("Account: 1"),
            _b64("Account:١٢"),
            _b64("Account:+1"),
            _b64("Account:01"),
            _b64(f"Account:{2**63}"),
            _b64(f"Account:{2**63 - 1}"),
            _b64(f"Invoice:{10**40}"),
            _b64("Handoff:-1"),
            _b64("Nope:1"),
            to_global_id("Account", 1) + "==",
            "x" * 10_000,
            "' OR 1=1 --",
        ]
    ),
    st.builds(to_global_id, st.sampled_from(["Account", "Project", "Command"]), st.integers(1)),
    st.text(max_size=80),
)


def ids(real: Sequence[str]) -> st.SearchStrategy[graphql.ValueNode]:
    """Mostly real global ids of the firm (any type, so often the wrong one), some junk."""
    assert real, "the firm yielded no ids"
    return st.one_of(st.sampled_from(list(real)), st.sampled_from(list(real)), _JUNK_IDS).map(
        nodes.String
    )


_DATES = st.one_of(
    st.dates().map(str),  # 0001-01-01 … 9999-12-31: most of them outside what is held
    st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)).map(str),
    st.sampled_from(["2026-06-30", "2026-02-30", "2026-6-1", "20260630", "", "today"]),
)
_DECIMALS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
    st.sampled_from(["0", "-0", "1e400", "NaN", "Infinity", "1,5", "9" * 40, "0.001", " 2 "]),
)
_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["%_", "' OR 1=1 --", "\x00", "USD", "EUR", "xxx", "a" * 300, "Σ" * 70]),
    st.text(min_size=256, max_size=2_000),
)


def cursors() -> st.SearchStrategy[str]:
    key = st.lists(st.one_of(st.integers(), st.text(max_size=20), st.none(), st.floats()))
    return st.one_of(
        st.builds(
            lambda order, k: _b64(json.dumps([CURSOR_VERSION, order, k])),
            st.sampled_from(["account:name", "project:code", "invoice:due", "command:newest"]),
            key,
        ),
        st.text(max_size=30),
    )


def scalars(real_ids: Sequence[str]) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    """Strategies for every scalar an input can hold (built-ins too: they are overridden so
    strings look like dates, amounts, currencies and cursors often enough to get past parsing)."""
    return {
        "ID": ids(real_ids),
        "Date": _DATES.map(nodes.String),
        "DateTime": st.datetimes().map(lambda d: nodes.String(d.isoformat())),
        "Decimal": _DECIMALS.map(nodes.String),
        "JSON": st.just(graphql.ObjectValueNode(fields=())),
        "String": st.one_of(_TEXT, _DATES, _DECIMALS, cursors()).map(nodes.String),
        "Int": st.one_of(
            st.integers(0, 120),
            st.integers(-(2**31), 2**31 - 1),
            st.sampled_from([0, -1, 100, 101, 500, 501, 2**31 - 1]),
        ).map(nodes.Int),
    }


@cache
def documents(
    kind: str,
    fields: tuple[str, ...],
    real_ids: tuple[str, ...],
    *,
    negative_share: bool = True,
) -> st.SearchStrategy[str]:
    """Documents over ``fields`` of the root ``kind`` (``query`` / ``mutation``): valid ones,
    and, with ``negative_share``, some with one schema violation (validation must refuse them
    with a code, not crash)."""
    make = hypothesis_graphql.queries if kind == "query" else hypothesis_graphql.mutations
    options = {"fields": list(fields), "custom_scalars": scalars(real_ids)}
    valid = make(schema(), **options)
    if not negative_share:
        return valid
    invalid = make(schema(), mode=hypothesis_graphql.Mode.NEGATIVE, **options)
    return st.one_of(valid, valid, valid, invalid)
