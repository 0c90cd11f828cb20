"""The base of every Kringloop aggregate: each event is a decision record."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import EffectiveDateError, Message
from domain.messages import N_
from domain.values import Decision


class DecisionRecord(Aggregate):
    """An aggregate whose every event carries a :class:`Decision`.

    It remembers which command produced which version, so a command applied twice
    is recognised (idempotency), and it keeps decisions in effective-date order.
    """

    class Event(Aggregate.Event):
        decision: Decision

        def apply(self, aggregate: Any) -> None:
            aggregate.applied_commands[self.decision.command_id] = [
                self.originator_version,
                self.decision.digest,
            ]
            # a late entry takes effect before the latest decision: the latest stays
            if not hasattr(aggregate, "last_effective") or self.decision.effective > (
                aggregate.last_effective
            ):
                aggregate.last_effective = self.decision.effective

    if TYPE_CHECKING:  # set by each aggregate's __init__; not fields of its Created event
        applied_commands: dict[str, list[Any]]
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

    def version_of_command(self, command_id: str) -> tuple[int, str] | None:
        """The version a command produced, and its content digest, if it was applied here."""
        entry = self.applied_commands.get(command_id)
        return None if entry is None else (int(entry[0]), str(entry[1]))


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
