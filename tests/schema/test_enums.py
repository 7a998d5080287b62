"""Every kind of command the code can log is a ``CommandKind``, every system a command targets
a ``CommandTargetSystem``, and so on for every enum whose values the code writes as text
(exception kinds, handoff steps and triggers, sources): a value outside the enum could not be
serialised in an answer."""

from __future__ import annotations

import importlib
import pkgutil

import resolvers
from readmodel.enums import SourceSystem as StoredSourceSystem
from resolvers.commands.operator import OPERATOR_KINDS, OPERATOR_SYSTEM
from schema.commands.enums import CommandKind, CommandTargetSystem
from schema.enums import SourceSystem
from schema.handoffs.enums import HandoffStepName, HandoffTrigger
from schema.sync.types import IntegrationExceptionKind
from sync_jobs.connectors.registry import CONNECTORS, KNOWN
from sync_jobs.exceptions import KINDS
from sync_jobs.handoff.state import TRIGGERS
from sync_jobs.handoff.steps import PAYLOADS, STEP_NAMES


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


def test_exception_kinds_steps_and_triggers_are_what_sync_writes() -> None:
    assert {k.value for k in IntegrationExceptionKind} == set(KINDS)
    assert [s.value for s in HandoffStepName] == list(STEP_NAMES)  # in the order they run
    assert {t.value for t in HandoffTrigger} == set(TRIGGERS)
    assert all(
        k.name == k.value
        for e in (IntegrationExceptionKind, HandoffStepName, HandoffTrigger)
        for k in e
    )


def test_every_connector_is_a_source_system() -> None:
    """``SourceFreshness.system`` is a connector's name (its ``sync_state`` rows)."""
    assert set(CONNECTORS) == set(KNOWN) == {s.value for s in SourceSystem}
