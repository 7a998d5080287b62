"""Queries generated from the schema, so a new type or field cannot escape the matrix.

One document per root field of Query. Each selects ``__typename``, every scalar and enum field
(and ``id`` of a Node), and recurses into object fields; a type with an ``id`` is expanded in
full once per document and later selected as ``__typename id`` (types without one are values,
expanded wherever they occur). An abstract root (``node``) expands each possible type in its
own inline fragment. Required arguments come from the caller (ids of real rows); root
connections ask for ``first: 100``. ``covered`` lists every (type, field) a document selects.
"""

from __future__ import annotations

import base64
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    Undefined,
    get_named_type,
    is_leaf_type,
    is_non_null_type,
)

from schema.build import build_schema

PAGE = 100
ENTITIES = "_entities"  # Apollo Federation's: representations, not ids
NODES = "nodes"  # several ids at once: answered like _entities (null for what is not seen)


def graphql_schema() -> GraphQLSchema:
    return build_schema()._schema


def _required(argument: GraphQLArgument) -> bool:
    return is_non_null_type(argument.type) and argument.default_value is Undefined


@dataclass
class Selection:
    """The selection set of one root field, and what it covers."""

    text: str
    covered: set[tuple[str, str]] = field(default_factory=set)


Path = tuple[str, ...]


def _possible(schema: GraphQLSchema, target: object) -> list[tuple[str, GraphQLObjectType]]:
    """(path step, object type) of an output type: itself, or one fragment per possible type."""
    if isinstance(target, GraphQLObjectType):
        return [("", target)]
    assert isinstance(target, GraphQLInterfaceType | GraphQLUnionType)
    return [(f"...{t.name}", t) for t in schema.get_possible_types(target)]


def _selectable(f: GraphQLField) -> bool:
    # No nested field takes a required argument today; coverage tells if one comes.
    return not any(_required(a) for a in f.args.values())


def owners(schema: GraphQLSchema, start: list[tuple[Path, GraphQLObjectType]]) -> dict[str, Path]:
    """Where each type with an id is expanded: its first occurrence breadth first (the
    shallowest, so answers stay small); elsewhere it is selected as ``__typename id``."""
    owner = {t.name: p for p, t in start if "id" in t.fields}
    queue = deque(start)
    while queue:
        path, type_ = queue.popleft()
        for name, f in type_.fields.items():
            target = get_named_type(f.type)
            if is_leaf_type(target) or not _selectable(f):
                continue
            for step, t in _possible(schema, target):
                where = (*path, name, step) if step else (*path, name)
                if "id" not in t.fields:
                    if t.name in {s for s in path}:
                        raise AssertionError(f"{t.name} recurses without an id")
                    queue.append((_at(where, t), t))  # a value: expanded where it occurs
                elif t.name not in owner:
                    owner[t.name] = where
                    queue.append((where, t))
    return owner


def _at(path: Path, type_: GraphQLObjectType) -> Path:
    """The path of a type's fields: a value type (no id) adds its name, to stop cycles."""
    return path if "id" in type_.fields else (*path, type_.name)


@dataclass
class _Walk:
    schema: GraphQLSchema
    owner: dict[str, Path]
    covered: set[tuple[str, str]] = field(default_factory=set)

    def expand(self, type_: GraphQLObjectType, path: Path) -> str:
        if "id" in type_.fields and self.owner[type_.name] != path:
            self.covered.add((type_.name, "id"))
            return "__typename id"
        parts = ["__typename"]
        inner = _at(path, type_)
        for name, f in type_.fields.items():
            if _selectable(f):
                self.covered.add((type_.name, name))
                parts.append(self.field(name, f, (*inner, name)))
        return " ".join(parts)

    def field(self, name: str, f: GraphQLField, path: Path) -> str:
        target = get_named_type(f.type)
        if is_leaf_type(target):
            return name
        return f"{name} {{ {self.inner(target, path)} }}"

    def inner(self, target: object, path: Path) -> str:
        found = _possible(self.schema, target)
        if len(found) == 1 and not found[0][0]:
            return self.expand(found[0][1], path)
        fragments = [f"... on {t.name} {{ {self.expand(t, (*path, s))} }}" for s, t in found]
        return "__typename " + " ".join(fragments)


def selection(schema: GraphQLSchema, root: GraphQLField, only: str | None = None) -> Selection:
    """The generated selection set of one root field's type (without braces); ``only``: the
    possible type to expand when the root's type is abstract (one per alias: fields of
    several types would conflict by name); the others then appear nested as ids only."""
    target = get_named_type(root.type)
    if is_leaf_type(target):
        return Selection("")
    found = _possible(schema, target)
    start = [(_at((step,) if step else (), t), t) for step, t in found]
    walk = _Walk(schema, owners(schema, start))
    if only is None:
        return Selection(walk.inner(target, ()), walk.covered)
    step, chosen = next((s, t) for s, t in found if t.name == only)
    text = f"__typename ... on {only} {{ {walk.expand(chosen, (step,))} }}"
    return Selection(text, walk.covered)


def type_of_id(global_id: str) -> str:
    """The type an id names (``base64url("<Type>:<key>")``; the handoff's id too)."""
    padded = global_id + "=" * (-len(global_id) % 4)
    return base64.urlsafe_b64decode(padded).decode().partition(":")[0]


@dataclass(frozen=True)
class Document:
    """A generated query: one root field, one alias per argument set."""

    root: str
    text: str
    aliases: tuple[str, ...]
    covered: frozenset[tuple[str, str]]
    ids: tuple[str, ...] = ()  # per alias, for root fields that take an id
    references: tuple[tuple[str, ...], ...] = ()  # per alias, for _entities


def is_connection(root: GraphQLField) -> bool:
    named = get_named_type(root.type)
    return isinstance(named, GraphQLObjectType) and "totalCount" in named.fields


def query_documents(
    schema: GraphQLSchema, ids_for: Mapping[str, Iterable[str]], operation: str = "query"
) -> list[Document]:
    """A document per root field of ``operation`` (``ids_for[root]``: the ids to ask for)."""
    root_type = schema.query_type if operation == "query" else schema.subscription_type
    assert root_type is not None
    documents = []
    for name, root in root_type.fields.items():
        needs_id = "id" in root.args and is_non_null_type(root.args["id"].type)
        if name in (ENTITIES, NODES):
            documents.append(_entities(schema, operation, root, tuple(ids_for[name]), name))
            continue
        if needs_id:
            documents.append(_by_id(schema, operation, name, root, tuple(ids_for[name])))
            continue
        unknown = [a for a, arg in root.args.items() if _required(arg)]
        assert not unknown, (
            f"{name} takes required arguments the generator cannot supply: {unknown}"
        )
        sel = selection(schema, root)
        body = f"{{ {sel.text} }}" if sel.text else ""
        args = f"(first: {PAGE})" if is_connection(root) and "first" in root.args else ""
        text = f"{operation} {{ {name}{args} {body} }}"
        documents.append(Document(name, text, (name,), frozenset(sel.covered)))
    return documents


def _by_id(
    schema: GraphQLSchema, operation: str, name: str, root: GraphQLField, ids: tuple[str, ...]
) -> Document:
    """One alias per id; an abstract root (``node``) expands each id's own type."""
    abstract = not isinstance(get_named_type(root.type), GraphQLObjectType)
    covered: set[tuple[str, str]] = set()
    fields = []
    for n, id_ in enumerate(ids):
        sel = selection(schema, root, type_of_id(id_) if abstract else None)
        covered |= sel.covered
        fields.append(f'a{n}: {name}(id: "{id_}") {{ {sel.text} }}')
    aliases = tuple(f"a{n}" for n in range(len(ids)))
    text = f"{operation} {{ {' '.join(fields)} }}"
    return Document(name, text, aliases, frozenset(covered), ids)


def _entities(
    schema: GraphQLSchema,
    operation: str,
    root: GraphQLField,
    ids: tuple[str, ...],
    name: str = ENTITIES,
) -> Document:
    """Federation's ``_entities`` (or ``nodes``): one alias per type (fields of several types
    would conflict by name), all that type's ids as its representations (or ids)."""
    by_type: dict[str, list[str]] = {}
    for id_ in ids:
        by_type.setdefault(type_of_id(id_), []).append(id_)
    covered: set[tuple[str, str]] = set()
    fields = []
    for n, (type_name, refs) in enumerate(by_type.items()):
        sel = selection(schema, root, type_name)
        covered |= sel.covered
        if name == NODES:
            listed = ", ".join(f'"{r}"' for r in refs)
            fields.append(f"a{n}: {NODES}(ids: [{listed}]) {{ {sel.text} }}")
            continue
        listed = ", ".join(f'{{__typename: "{type_name}", id: "{r}"}}' for r in refs)
        fields.append(f"a{n}: {ENTITIES}(representations: [{listed}]) {{ {sel.text} }}")
    aliases = tuple(f"a{n}" for n in range(len(by_type)))
    text = f"{operation} {{ {' '.join(fields)} }}"
    references = tuple(tuple(refs) for refs in by_type.values())
    return Document(name, text, aliases, frozenset(covered), references=references)


def reachable_fields(schema: GraphQLSchema, root: GraphQLObjectType) -> set[tuple[str, str]]:
    """Every (type, field) of an object type reachable from ``root``'s fields."""
    seen: set[str] = set()
    out: set[tuple[str, str]] = set()
    todo: list[object] = [get_named_type(f.type) for f in root.fields.values()]
    while todo:
        t = todo.pop()
        if isinstance(t, GraphQLInterfaceType | GraphQLUnionType):
            todo.extend(schema.get_possible_types(t))
            continue
        if not isinstance(t, GraphQLObjectType) or t.name in seen:
            continue
        seen.add(t.name)
        for name, f in t.fields.items():
            out.add((t.name, name))
            todo.append(get_named_type(f.type))
    return out


def node_type_names(schema: GraphQLSchema) -> frozenset[str]:
    node = schema.get_type("Node")
    assert isinstance(node, GraphQLInterfaceType)
    return frozenset(t.name for t in schema.get_possible_types(node))


def entity_type_names(schema: GraphQLSchema) -> frozenset[str]:
    """The types federation's ``_entities`` resolves (its ``_Entity`` union)."""
    entity = schema.get_type("_Entity")
    assert isinstance(entity, GraphQLUnionType)
    return frozenset(t.name for t in entity.types)
