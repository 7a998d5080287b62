"""Apollo Federation's ``_service``: the subgraph's SDL for a supergraph's composition.

Declared here rather than left to strawberry, so the rule table can name it (it is the schema:
internal roles only, like introspection). ``_entities`` is strawberry's; its references resolve
in ``Node.resolve_reference`` (resolvers/entities.py).
"""

from __future__ import annotations

import strawberry
from strawberry.printer import print_schema


@strawberry.type(name="_Service", description="This subgraph, as Apollo Federation reads it.")
class Service:
    sdl: str = strawberry.field(description="The schema with its federation directives.")


def service(info: strawberry.Info) -> Service:
    return Service(sdl=print_schema(info.schema))
