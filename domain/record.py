"""The base of every Kringloop aggregate: each event is a decision record."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.applied import Applied, recorded_command
from domain.errors import EffectiveDateError, Message
from domain.messages import N_
from domain.values import Decision


class DecisionRecord(Aggregate):
    """An aggregate whose every event carries a :class:`Decision`.

    It keeps decisions in effective-date order. Which command produced which version is
    kept by the event store beside the events (domain.applied), not here: a snapshot would
    carry the whole index. Snapshots taken while it was kept here still load: each
    aggregate's ``upcast_..._v{class_version}`` drops ``applied_commands``.
    """

    class Event(Aggregate.Event):
        decision: Decision

        def apply(self, aggregate: Any) -> None:
            # a late entry takes effect before the latest decision: the latest stays
            if not hasattr(aggregate, "last_effective") or self.decision.effective > (
                aggregate.last_effective
            ):
                aggregate.last_effective = self.decision.effective

    if TYPE_CHECKING:  # set by each aggregate's __init__; not fields of its Created event
        last_effective: date

        @staticmethod
        def create_id(slug: str) -> UUID: ...

    keeps_effective_order = True
    decided_by: ClassVar[dict[str, str]] = {}
    """Event name → the command method that decides it, where the two are apart (a command
    method checks, then calls the method that records the event): what-if replays decide
    through the command method, so today's rules run and consequences are worked out anew."""

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        decision = kwargs.get("decision")
        if isinstance(decision, Decision):
            self.check_effective_order(decision)
        super().trigger_event(event_class, **kwargs)

    def check_effective_order(self, decision: Decision) -> None:
        if self.keeps_effective_order and decision.effective < self.last_effective:
            raise EffectiveDateError(
                N_(
                    "a decision on this {kind} cannot take effect on {day}: the previous "
                    "decision took effect on {previous}"
                ),
                kind=record_word(self.kind),
                day=decision.effective,
                previous=self.last_effective,
            )

    @property
    def kind(self) -> str:
        return type(self).__name__.lower()

    @property
    def slug(self) -> str:
        """The id people use: ``programme_id``, ``initiative_id``, ..."""
        return str(getattr(self, f"{self.kind}_id"))

    def version_of_command(self, command_id: str) -> Applied | None:
        """The version a command produced here, and its content digest: among the decisions
        not yet saved, else as recorded in the store (while the engine decides)."""
        event: Any
        for event in reversed(self._pending_events):
            if event.decision.command_id == command_id:
                return Applied(event.originator_version, event.decision.digest)
        return recorded_command(self.id, command_id)


def forget_applied_commands(state: dict[str, Any]) -> None:
    """Upcast a snapshot taken while aggregates kept their applied-command index: the store
    keeps it now (domain.applied)."""
    state.pop("applied_commands", None)


RECORD_WORDS = {
    "authority": N_("authority"),
    "programme": N_("programme"),
    "initiative": N_("initiative"),
    "commitment": N_("commitment"),
    "community": N_("community"),
}
"""Each kind of record (``DecisionRecord.kind``, a command's group) as a refusal names it."""


def record_word(kind: str) -> Message | str:
    """A kind of record as a message parameter (the kind itself when it has no words)."""
    found = RECORD_WORDS.get(kind)
    return kind if found is None else Message(found)
