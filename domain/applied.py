"""Which command produced which version of which record (idempotency).

The event store keeps it beside the events, in a command table written in the same
transaction as the events and unique on (record, command id); the aggregates no longer carry
it, so their snapshots stay small however long their history grows. A recorder that keeps
the table says so by being a :class:`CommandTable`; ``insert_events`` then takes the rows as
``commands=...``. The memory store's recorder here keeps one in a dict.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder


class Applied(NamedTuple):
    """A command as applied to one record: the version it produced, and its fingerprint."""

    version: int
    digest: str


class CommandRow(NamedTuple):
    originator_id: UUID
    command_id: str
    version: int
    digest: str


Lookup = Callable[[UUID, str], Applied | None]


@runtime_checkable
class CommandTable(Protocol):
    """A recorder that writes ``insert_events(..., commands=rows)`` in the events'
    transaction, refusing (IntegrityError) a command id already applied to that record."""

    def applied_command(self, originator_id: UUID, command_id: str) -> Applied | None: ...

    def applied_commands(
        self, keys: Collection[tuple[UUID, str]]
    ) -> dict[tuple[UUID, str], Applied]:
        """Those of (record, command id) that were applied, in one look-up."""

    def has_commands(self) -> bool: ...

    def insert_commands(self, rows: Sequence[CommandRow]) -> None:
        """Add rows written before the table existed; rows already there are kept."""


def command_rows(events: Iterable[Any]) -> list[CommandRow]:
    """One row per (record, command) among ``events``: the last version the command
    produced on that record, as the aggregates' own index kept it before."""
    found: dict[tuple[UUID, str], CommandRow] = {}
    for event in events:
        decision = getattr(event, "decision", None)
        if decision is None:
            continue
        key = (event.originator_id, decision.command_id)
        found[key] = CommandRow(*key, event.originator_version, decision.digest)
    return list(found.values())


class MemoryEvents(POPOApplicationRecorder):
    """The memory store's recorder, with its command table in a dict."""

    def __init__(self) -> None:
        super().__init__()
        self.commands: dict[tuple[UUID, str], Applied] = {}

    def _assert_uniqueness(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        super()._assert_uniqueness(stored_events, **kwargs)
        rows: Sequence[CommandRow] = kwargs.get("commands", ())
        keys = {(r.originator_id, r.command_id) for r in rows}
        if len(keys) < len(rows) or any(key in self.commands for key in keys):
            raise IntegrityError("a command id already applied to this record")

    def _update_table(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        returning = super()._update_table(stored_events, **kwargs)
        self.insert_commands(kwargs.get("commands", ()))
        return returning

    def applied_command(self, originator_id: UUID, command_id: str) -> Applied | None:
        return self.commands.get((originator_id, command_id))

    def applied_commands(
        self, keys: Collection[tuple[UUID, str]]
    ) -> dict[tuple[UUID, str], Applied]:
        return {key: self.commands[key] for key in keys if key in self.commands}

    def has_commands(self) -> bool:
        return bool(self.commands)

    def insert_commands(self, rows: Sequence[CommandRow]) -> None:
        for row in rows:
            self.commands.setdefault((row.originator_id, row.command_id), Applied(*row[2:]))


_recorded: ContextVar[Lookup | None] = ContextVar("recorded_commands", default=None)


@contextmanager
def recorded_commands(lookup: Lookup) -> Iterator[None]:
    """While a decision is taken, where its record finds the commands already recorded on it
    (a correction names the decision it corrects by command id)."""
    token = _recorded.set(lookup)
    try:
        yield
    finally:
        _recorded.reset(token)


def recorded_command(originator_id: UUID, command_id: str) -> Applied | None:
    """A command recorded on that record, if the decision in progress can know it."""
    lookup = _recorded.get()
    return None if lookup is None else lookup(originator_id, command_id)
