"""What every aggregate's projector shares: the handler's shape, whom a decision is about,
the refusal of an event no command could record, and the decision log's line."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple

from domain.personal import as_plain
from projections.working_set import Row, WorkingSet


class StoreInconsistentError(RuntimeError):
    """An event the read models cannot apply: the store holds what no command could record
    (a measurement of a target never set, ...). Stops the runner; nothing of the batch is
    written."""


Handler = Callable[[WorkingSet, Any, Row], None]
"""Applies one kind of event: (working set, event, the initiative's row or an empty one)."""


class Subject(NamedTuple):
    """Whom a line of the decision log is about."""

    kind: str
    id: str
    programme_id: str


_BASE_FIELDS = {"originator_id", "originator_version", "timestamp", "decision", "originator_topic"}


@lru_cache(maxsize=256)
def step_words(event_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", " ", event_name).lower()


def log_decision(ws: WorkingSet, notification_id: int, event: Any, subject: Subject) -> None:
    """The event's line in the decision log: who decided what, why, on what evidence, when."""
    decision = event.decision
    ws.append(
        "decisions",
        {
            "notification_id": notification_id,
            "subject_kind": subject.kind,
            "subject_id": subject.id,
            "programme_id": subject.programme_id,
            "version": event.originator_version,
            "event": type(event).__name__,
            "step": step_words(type(event).__name__),
            "actor": decision.actor,
            "recorded_by": decision.recorder,
            "authority": decision.authority,
            "reason": decision.reason,
            "evidence": list(decision.evidence),
            "effective": decision.effective,
            "recorded_at": event.timestamp,
            "command_id": decision.command_id,
            # personal data only as whose it is: the read models hold no sealed or clear text
            "details": as_plain({k: v for k, v in vars(event).items() if k not in _BASE_FIELDS}),
        },
    )
