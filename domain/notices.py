"""Notices: the decisions people need to hear about, queued in the event store's outbox in
the same transaction as the decision itself (so a decision is never recorded without its
notice, nor its notice queued twice: the key is the cause).

Who hears it, and how (e-mail, webhook, in which language), is decided when it is
delivered (adapters.notifications): the notice names the cause and what it says. A
recorder that keeps the outbox says so by being an :class:`Outbox`; ``insert_events`` then
takes the rows as ``notices=...``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from domain.initiative import Initiative

KINDS = (
    "overdue-precondition",  # to the initiative's broker
    "stalled",  # to the initiative's broker
    "scale-up-assessed",  # to the initiative's broker: ready to scale, or at risk
    "consortium-formed",  # to the members' contacts
    "board-withdrawn",  # to the members' contacts, with the handover note
    "weekly-digest",  # to the programme office (its managers)
)


@dataclass(frozen=True)
class Notice:
    """What a decision (or a scheduled check) makes someone need to hear."""

    key: str  # the cause, unique: "<kind>:<record>:<version>", or "weekly-digest:<week>"
    kind: str
    record: str  # the aggregate's id (hex); "" for a notice of the programme as a whole
    version: int
    data: dict[str, Any]  # what it says, in plain values (JSON)

    def data_json(self) -> str:
        return json.dumps(self.data, sort_keys=True, default=str)


@dataclass(frozen=True)
class Queued(Notice):
    """A notice as the outbox holds it: its place in the queue, and when it was queued."""

    sequence: int = 0
    queued_at: str = ""


@runtime_checkable
class Outbox(Protocol):
    """A recorder that writes ``insert_events(..., notices=rows)`` in the events'
    transaction (a key queued already is left as it is)."""

    def queue_notices(self, notices: Sequence[Notice]) -> None:
        """Queue notices no decision carries (a scheduled check's), each key once."""

    def notices_after(self, sequence: int, limit: int) -> list[Queued]:
        """The queued notices after ``sequence``, in queue order."""


def notices_of(events: Iterable[Any]) -> list[Notice]:
    """The notices among a save's events: one per decision people need to hear about."""
    found = []
    for event in events:
        record, version = event.originator_id.hex, event.originator_version
        effective = str(event.decision.effective) if hasattr(event, "decision") else ""
        if isinstance(event, Initiative.Escalated):  # type: ignore[attr-defined]
            kind = "overdue-precondition" if event.concern == "overdue_precondition" else "stalled"
            data: dict[str, Any] = {"subject": event.subject, "effective": effective}
        elif isinstance(event, Initiative.ScaleUpAssessed):
            if not (event.ready or event.at_risk):
                continue
            kind = "scale-up-assessed"
            data = {
                "outcome": "ready" if event.ready else "at-risk",
                "criteria": event.criteria,
                "effective": effective,
            }
        elif isinstance(event, Initiative.ConsortiumFormed):  # type: ignore[attr-defined]
            kind, data = "consortium-formed", {"effective": effective}
        elif isinstance(event, Initiative.BoardWithdrew):  # type: ignore[attr-defined]
            kind = "board-withdrawn"
            data = {"handover_note": event.handover_note, "effective": effective}
        else:
            continue
        found.append(Notice(f"{kind}:{record}:{version}", kind, record, version, data))
    return found
