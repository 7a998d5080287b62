"""Valid query documents over the part of the schema the planner compiles (its catalog), with
arguments, aliases, fragments, nested lists, connections and variables — and now and then a
field it does not compile, so the fallback is exercised too."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from resolvers.planner import catalog

MONEY = ("amount", "currency", "__typename")
OUTSIDE = {  # fields the planner leaves to the per-field path (figures, lineage, guarded)
    "Account": ["sourceRefs { system sourceId }"],
    "Project": ["sourceRefs { system }", "team { role }"],
    "Invoice": ["payments { amount { amount } receivedOn }"],
    "Milestone": ["isSlipped sourceRefs { version }"],
}
GUARDED = {  # guarded fields outside the catalog: compiled (null) only for a role that may not
    # see them, per field for the others
    "Payment": ["amount { amount currency }", "receivedOn", "paid: amount { __typename }"],
    "Project": ["outlook { teamEac { amount } }"],
}
HEALTH = (
    "score",
    "status",
    "asOf",
    "__typename",
    "factors { name value weight penalty explanation }",
    "factors { __typename e: explanation penalty }",
)
OUTLOOK = (
    "asOf",
    "status",
    "lowToBudget",
    "highToBudget",
    "trendDaysLeft",
    "__typename",
    "teamEac { amount currency }",
    "trendEac { amount __typename }",
    "dailyBurn { currency }",
    "eacLow { amount }",
    "eacHigh { amount }",
    "overrunLow { amount }",
    "overrunHigh { amount currency }",
    "revenueAtCompletion { amount }",
    "marginAtCompletion",
    "factors { name value explanation }",
    "factors { __typename v: value name }",
)
READINESS = (
    "checks",
    "passed",
    "score",
    "ready",
    "__typename",
    "issues { field message owner }",
    "issues { __typename o: owner field }",
)
ENTITY_UNION = ("Account", "Engagement", "Invoice", "Opportunity", "Project")
"""The federation's ``_Entity`` union (of the catalog's types, these)."""
STATUSES = ["DRAFT", "POSTED", "PARTIALLY_PAID", "PAID", "VOID"]


@dataclass
class Document:
    """A document being drawn: its variables (definitions and values) and fragments."""

    ids: dict[str, list[str]]
    definitions: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    fragments: list[str] = field(default_factory=list)
    count: int = 0

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def variable(self, type_: str, value: Any) -> str:
        name = self.fresh("v")
        self.definitions.append(f"${name}: {type_}")
        self.variables[name] = value
        return f"${name}"

    def text(self, selection: str) -> str:
        header = f"({', '.join(self.definitions)})" if self.definitions else ""
        return "\n".join([f"query Q{header} {{ {selection} }}", *self.fragments])


def _literal_or_variable(
    draw: st.DrawFn, doc: Document, type_: str, value: Any, literal: str
) -> str:
    return doc.variable(type_, value) if draw(st.booleans()) else literal


def _arguments(draw: st.DrawFn, doc: Document, spec: catalog.Many) -> str:
    out = []
    if draw(st.booleans()):
        first = draw(st.sampled_from([0, 1, 2, 5]))
        out.append(f"first: {_literal_or_variable(draw, doc, 'Int!', first, str(first))}")
    if draw(st.integers(0, 2)) == 0:  # after: an item of the list, of another, or junk
        after = draw(st.sampled_from([None, *doc.ids.get(spec.type_name, ()), *doc.ids["junk"]]))
        literal = "null" if after is None else f'"{after}"'
        out.append(f"after: {_literal_or_variable(draw, doc, 'ID', after, literal)}")
    if "status" in spec.filters and draw(st.booleans()):
        chosen = draw(st.lists(st.sampled_from(STATUSES), max_size=3))
        literal = f"[{', '.join(chosen)}]"
        out.append(
            f"status: {_literal_or_variable(draw, doc, '[InvoiceStatus!]', chosen, literal)}"
        )
    if "openOnly" in spec.filters and draw(st.booleans()):
        flag = draw(st.booleans())
        literal = "true" if flag else "false"
        out.append(f"openOnly: {_literal_or_variable(draw, doc, 'Boolean!', flag, literal)}")
    return f"({', '.join(out)})" if out else ""


def _field(draw: st.DrawFn, doc: Document, type_name: str, name: str, depth: int) -> str | None:
    spec = catalog.ENTITIES[type_name].fields[name]
    alias = f"{doc.fresh('a')}: " if draw(st.integers(0, 4)) == 0 else ""
    if isinstance(spec, catalog.MoneyOf) or (
        isinstance(spec, catalog.Stored) and spec.kind == "money"
    ):
        picked = draw(st.lists(st.sampled_from(MONEY), min_size=1, max_size=3))
        return f"{alias}{name} {{ {' '.join(picked)} }}"
    if isinstance(spec, catalog.Health | catalog.Outlook | catalog.Readiness):
        choices = {catalog.Health: HEALTH, catalog.Outlook: OUTLOOK}.get(type(spec), READINESS)
        picked = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=4, unique=True))
        return f"{alias}{name} {{ {' '.join(picked)} }}"
    if isinstance(spec, catalog.ToOne | catalog.Many):
        if depth <= 0:
            return None
        arguments = _arguments(draw, doc, spec) if isinstance(spec, catalog.Many) else ""
        inner = draw(selection(doc, spec.type_name, depth - 1))
        return f"{alias}{name}{arguments} {{ {inner} }}"
    return f"{alias}{name}"


@st.composite
def selection(draw: st.DrawFn, doc: Document, type_name: str, depth: int) -> str:
    """Fields of ``type_name`` (at least one), some in fragments."""
    names = [*sorted(catalog.ENTITIES[type_name].fields), "__typename"]
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=5, unique=True))
    parts = []
    for name in chosen:
        text = name if name == "__typename" else _field(draw, doc, type_name, name, depth)
        parts.append(text or "id")
    if type_name in OUTSIDE and draw(st.integers(0, 5)) == 0:
        parts.append(draw(st.sampled_from(OUTSIDE[type_name])))
    if type_name in GUARDED and draw(st.integers(0, 2)) == 0:
        parts.append(draw(st.sampled_from(GUARDED[type_name])))
    if draw(st.integers(0, 24)) == 0:  # a directive (the planner leaves it to the pipeline)
        which, flag = draw(st.sampled_from(["include", "skip"])), draw(st.booleans())
        parts.append(f"d{doc.count}: id @{which}(if: {doc.variable('Boolean!', flag)})")
    how = draw(st.integers(0, 7))
    if how == 0:  # an inline fragment
        parts = [f"... on {type_name} {{ {' '.join(parts)} }}"]
    elif how == 1:  # a named fragment
        name = doc.fresh("F")
        doc.fragments.append(f"fragment {name} on {type_name} {{ {' '.join(parts)} }}")
        parts = [f"...{name} id"]
    elif how == 2:  # on an interface of the type (every catalog type is a Node)
        parts = [f"... on Node {{ __typename ... on {type_name} {{ {' '.join(parts)} }} }}"]
    elif how == 3 and type_name in ENTITY_UNION:  # on a union the type belongs to, with a
        # fragment on another member of it, which does not apply
        other = draw(st.sampled_from([t for t in ENTITY_UNION if t != type_name]))
        name = doc.fresh("U")
        inner = f"... on {type_name} {{ {' '.join(parts)} }} ... on {other} {{ id }}"
        doc.fragments.append(f"fragment {name} on _Entity {{ __typename {inner} }}")
        parts = [f"...{name} id"]
    return " ".join(parts)


ROOT_TYPES = {
    "account": "Account",
    "opportunity": "Opportunity",
    "engagement": "Engagement",
    "project": "Project",
    "invoice": "Invoice",
}
PAGES = {
    "accounts": "Account",
    "projects": "Project",
    "invoices": "Invoice",
    "contacts": "Contact",
    "opportunities": "Opportunity",
    "engagements": "Engagement",
    "milestones": "Milestone",
}


NODE_TYPES = tuple(catalog.NODES)  # the types node(id:) compiles for


@st.composite
def root(draw: st.DrawFn, doc: Document) -> str:
    alias = f"{doc.fresh('r')}: "
    if draw(st.integers(0, 4)) == 0:  # node(id:): any type's id, its fields in fragments
        type_name = draw(st.sampled_from(NODE_TYPES))
        global_id = draw(st.sampled_from(doc.ids[type_name] + doc.ids["junk"]))
        other = draw(st.sampled_from([t for t in NODE_TYPES if t != type_name]))
        inner = draw(selection(doc, type_name, 1))
        fields = f"id ... on {type_name} {{ {inner} }} ... on {other} {{ __typename }}"
        return f"{alias}node(id: {doc.variable('ID!', global_id)}) {{ {fields} }}"
    if draw(st.booleans()):
        name = draw(st.sampled_from(sorted(ROOT_TYPES)))
        global_id = draw(st.sampled_from(doc.ids[ROOT_TYPES[name]] + doc.ids["junk"]))
        inner = draw(selection(doc, ROOT_TYPES[name], 2))
        return f"{alias}{name}(id: {doc.variable('ID!', global_id)}) {{ {inner} }}"
    name = draw(st.sampled_from(sorted(PAGES)))
    first = draw(st.sampled_from([None, 0, 1, 3]))
    given = [] if first is None else [f"first: {doc.variable('Int', first)}"]
    if draw(st.integers(0, 2)) == 0:  # after: a page's end (of this list, another) or junk
        own = doc.ids.get(f"cursor:{name}", ())
        others = [v for k, v in doc.ids.items() if k.startswith("cursor:") and v is not own]
        another = draw(st.sampled_from(others))[:1]  # a page's end of another list
        after = draw(st.sampled_from([None, *own, *another, doc.ids["junk"][0]]))
        given.append(f"after: {doc.variable('String', after)}")
    if name == "invoices" and draw(st.booleans()):
        overdue = draw(st.sampled_from([None, True, False]))
        given.append(f"filter: {doc.variable('InvoiceFilter', {'overdue': overdue})}")
    arguments = f"({', '.join(given)})" if given else ""
    parts = []
    if draw(st.booleans()):
        parts.append("totalCount")
    if draw(st.booleans()):
        info = ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"]
        picked = draw(st.lists(st.sampled_from(info), min_size=1, max_size=4, unique=True))
        parts.append(f"pageInfo {{ {' '.join(picked)} }}")
    if draw(st.booleans()):
        parts.append(f"edges {{ cursor node {{ {draw(selection(doc, PAGES[name], 1))} }} }}")
    if not parts or draw(st.booleans()):
        parts.append(f"nodes {{ {draw(selection(doc, PAGES[name], 1))} }}")
    return f"{alias}{name}{arguments} {{ {' '.join(parts)} }}"


@st.composite
def documents(draw: st.DrawFn, ids: dict[str, list[str]]) -> tuple[str, dict[str, Any]]:
    """(document, variables)."""
    doc = Document(ids)
    roots = draw(st.lists(root(doc), min_size=1, max_size=2))
    return doc.text(" ".join(roots)), doc.variables


@st.composite
def outlook_documents(draw: st.DrawFn, ids: dict[str, list[str]]) -> tuple[str, dict[str, Any]]:
    """(document, variables) reading ``Project.outlook`` (drawn as any other field), by id or
    on a page of projects, beside other fields of the project."""
    doc = Document(ids)
    outlook = _field(draw, doc, "Project", "outlook", 1)
    inner = f"{draw(selection(doc, 'Project', 1))} {outlook}"
    if draw(st.booleans()):
        key = draw(st.sampled_from(ids["Project"] + ids["junk"]))
        return doc.text(f"r: project(id: {doc.variable('ID!', key)}) {{ {inner} }}"), doc.variables
    first = draw(st.sampled_from([1, 3, 50]))
    page = f"projects(first: {doc.variable('Int', first)}) {{ nodes {{ {inner} }} }}"
    return doc.text(page), doc.variables
