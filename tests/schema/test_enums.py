"""Every kind of command the code can log is a ``CommandKind``, every system a command targets
a ``CommandTargetSystem``: a value outside the enum could not be serialised in an answer."""

from __future__ import annotations

import importlib
import pkgutil

import resolvers
from readmodel.enums import SourceSystem as StoredSourceSystem
from resolvers.commands.operator import OPERATOR_KINDS, OPERATOR_SYSTEM
from schema.commands.enums import CommandKind, CommandTargetSystem
from schema.enums import SourceSystem
from sync_jobs.handoff.steps import PAYLOADS


def _logged_kinds() -> set[str]:
    """The ``KIND`` of every mutation module, the operator kinds and the handoff steps."""
    found = set(OPERATOR_KINDS) | set(PAYLOADS)
    for info in pkgutil.walk_packages(resolvers.__path__, "resolvers."):
        kind = getattr(importlib.import_module(info.name), "KIND", None)
        if isinstance(kind, str):
            found.add(kind)
    return found


def test_every_logged_kind_is_a_command_kind() -> None:
    kinds = _logged_kinds()

    assert len(kinds) > 15
    assert kinds == {k.value for k in CommandKind}


def test_systems_are_the_read_models_and_clientgraph() -> None:
    stored = {s.value for s in StoredSourceSystem}

    assert {s.value for s in SourceSystem} == stored
    assert {s.value for s in CommandTargetSystem} == stored | {OPERATOR_SYSTEM}
    assert all(k.name == k.value for e in (CommandKind, SourceSystem) for k in e)
