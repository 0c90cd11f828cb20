"""The engine: an eventsourcing Application whose entry point executes catalogue commands."""

from __future__ import annotations

import copy
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, LRUCache
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from domain import policy
from domain.authority import REGISTER, Authority
from domain.commands.base import Command, Outcome
from domain.errors import (
    AlreadyExistsError,
    CommandIdReusedError,
    ConcurrencyConflictError,
    EffectiveDateError,
    KringloopError,
    NotFoundError,
    Term,
)
from domain.initiative import Initiative
from domain.messages import N_
from domain.procurement import Commitment, Community
from domain.programme import Programme
from domain.record import DecisionRecord, record_word
from domain.transcodings import DateAsISO, DecisionAsDict
from domain.values import PROGRAMME_TZ, Decision

AGGREGATES: dict[str, type[DecisionRecord]] = {
    "authority": Authority,
    "programme": Programme,
    "initiative": Initiative,
    "commitment": Commitment,
    "community": Community,
}
Record = TypeVar("Record", bound=DecisionRecord)
ATTEMPTS = 5  # a stale write is decided again against the new state this many times
BACKOFF_S = 0.005  # the longest first pause before deciding again; doubles each attempt
_JITTER = random.Random()  # noqa: S311 (a pause, not a secret; not the global one hypothesis seeds)


def fold(aggregate: Any, events: Iterable[Any]) -> Any:
    """Apply stored events in order. The library's own projector asserts a runtime-checkable
    protocol on every event, which costs more than applying it; our events are all ours."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class Batch:
    """The aggregates a batch of decisions has touched: each decided on one in-memory
    object, and all saved together in one transaction at the end."""

    def __init__(self) -> None:
        self.touched: dict[UUID, DecisionRecord] = {}


@dataclass(frozen=True)
class BatchResult:
    outcomes: list[Outcome]
    refusal: KringloopError | None  # the error that stopped the batch, if one did


def today_in_programme_tz() -> date:
    return datetime.now(tz=PROGRAMME_TZ).date()


class Engine(Application[UUID]):
    """Kringloop's service layer: programmes and initiatives, decided by command."""

    name = "Kringloop"
    # Cached aggregates are decided on in place: every command method checks before it
    # changes anything, and any failure drops the cache (see _forget), so copying each
    # aggregate out of the cache on every read buys nothing but time.
    env = {"DEEPCOPY_FROM_AGGREGATE_CACHE": "n"}
    snapshotting_intervals = {Initiative: 50, Programme: 50, Commitment: 50, Community: 50}

    def __init__(
        self, env: dict[str, str] | None = None, clock: Callable[[], date] | None = None
    ) -> None:
        super().__init__(env)
        self.clock = clock or today_in_programme_tz
        # One decision at a time per engine: decisions are made on the cached aggregates in
        # place, so two threads (the API's) deciding on one object at once recorded both
        # events under the first save, a command id twice (tests/faults/test_races.py).
        # Readers outside a decision take the lock too, and get a copy: see ``record``.
        # Other processes are kept apart by the store's optimistic concurrency.
        self._deciding = threading.RLock()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(DecisionAsDict())

    # -- the one way in -----------------------------------------------------------------

    def execute(self, command: Command) -> Outcome:
        """Decide a command and record it, once, whatever the number of retries."""
        decision = command.decision(self.effective_date(command))
        with self._deciding:
            return self._execute(command, decision)

    def _execute(self, command: Command, decision: Decision) -> Outcome:
        for attempt in range(ATTEMPTS):
            try:
                return self._decide(command, decision, None)
            except IntegrityError:
                self._forget()
                # Another writer got there first: decide again on the new state, after a
                # short random pause, so that writers who collided do not collide again.
                time.sleep(_JITTER.uniform(0, BACKOFF_S * 2**attempt))
                continue
            except BaseException:
                self._forget()
                raise
        raise ConcurrencyConflictError(
            N_(
                "{command}: the record kept changing under this decision ({attempts} attempts); "
                "try again"
            ),
            command=Term("command", command.command),
            attempts=ATTEMPTS,
        )

    def execute_batch(self, commands: Sequence[Command]) -> BatchResult:
        """Decide commands in order, then record all their events in one transaction.

        Stops at the first refusal: the commands before it are recorded, the refused one
        appends nothing. If another writer interferes, falls back to one command at a time.
        """
        with self._deciding:
            return self._execute_batch(commands)

    def _execute_batch(self, commands: Sequence[Command]) -> BatchResult:
        outcomes: list[Outcome] = []
        refusal: KringloopError | None = None
        batch = Batch()
        try:
            for command in commands:
                try:
                    decision = command.decision(self.effective_date(command))
                    outcomes.append(self._decide(command, decision, batch))
                except KringloopError as error:
                    refusal = error
                    break
            recordings = self.save(*batch.touched.values())
        except IntegrityError:
            self._forget()
            decided = len(outcomes) + (1 if refusal else 0)  # the refused one is decided again
            return self._execute_singly(commands[:decided])
        except BaseException:
            self._forget()
            raise
        self._remember(batch.touched.values())
        last = recordings[-1].notification.id if recordings else None
        outcomes = [
            o if o.replayed else o.model_copy(update={"notification_id": last}) for o in outcomes
        ]
        return BatchResult(outcomes=outcomes, refusal=refusal)

    def _remember(self, saved: Iterable[DecisionRecord]) -> None:
        """Keep what was just saved in the cache: the next decision on it needs no reload."""
        cache = self.repository.cache
        if cache is not None:
            for aggregate in saved:
                cache.put(aggregate.id, aggregate)

    def _forget(self) -> None:
        """Drop every cached aggregate: one of them may hold a decision that was not saved."""
        cache = self.repository.cache
        if cache is None:
            return
        if isinstance(cache, LRUCache):
            for key in list(cache.cache):  # LRUCache.clear() resets its queue, not its dict
                with suppress(KeyError):
                    cache.get(key, evict=True)
        else:
            cache.cache.clear()

    def _execute_singly(self, commands: Sequence[Command]) -> BatchResult:
        outcomes: list[Outcome] = []
        for command in commands:
            try:
                outcomes.append(self.execute(command))
            except KringloopError as error:
                return BatchResult(outcomes=outcomes, refusal=error)
        return BatchResult(outcomes=outcomes, refusal=None)

    def effective_date(self, command: Command) -> date:
        today = self.clock()
        effective = command.effective or today
        if effective > today:
            raise EffectiveDateError(
                N_("{command}: effective date {day} lies in the future (today is {today})"),
                command=Term("command", command.command),
                day=effective,
                today=today,
            )
        return effective

    def _decide(self, command: Command, decision: Decision, batch: Batch | None) -> Outcome:
        """Get the aggregate, authorise, decide, save (or keep for the batch's save)."""
        kind = AGGREGATES[command.group]
        if command.creates:
            return self._create(command, decision, kind.create_id(command.subject_id), batch)
        aggregate = self._load(kind, command.subject_id, batch)
        replay = self._replay(command, aggregate)
        if replay is not None:
            return replay
        decision = self._authorise(command, aggregate, decision, batch)
        command.decide(aggregate, decision)
        return self._save(command, aggregate, batch)

    def _create(
        self, command: Command, decision: Decision, id_: UUID, batch: Batch | None
    ) -> Outcome:
        existing = self._get_or_none(id_, None, batch)
        if existing is not None:
            replay = self._replay(command, existing)
            if replay is not None:
                return replay
            raise AlreadyExistsError(
                N_("{kind} '{slug}' already exists"),
                kind=record_word(existing.kind),
                slug=existing.slug,
            )
        decision = self._authorise(command, None, decision, batch)
        return self._save(command, command.create(decision), batch)

    def _authorise(
        self,
        command: Command,
        aggregate: DecisionRecord | None,
        decision: Decision,
        batch: Batch | None,
    ) -> Decision:
        """The decision with the authority it rests on (domain.policy), or a refusal."""
        found = self._get_or_none(Authority.create_id(REGISTER), None, batch)
        register = found if isinstance(found, Authority) else None
        subject = policy.subject_of(
            command, aggregate, lambda programme_id: self._load(Programme, programme_id, batch)
        )
        return policy.authorise(subject, register, decision, self.clock())

    def register(self) -> Authority | None:
        """The authority register (who may decide what), or None before `init`; read like
        any record (a reader outside a decision gets its own copy of what was saved)."""
        try:
            return self.record(Authority, REGISTER)
        except NotFoundError:
            return None

    def _replay(self, command: Command, aggregate: DecisionRecord) -> Outcome | None:
        applied = aggregate.version_of_command(command.command_id)
        if applied is None:
            return None
        version, digest = applied
        if digest != command.digest():
            raise CommandIdReusedError(
                N_(
                    "command id '{command_id}' was already used for a different decision "
                    "(version {version} of {kind} '{slug}')"
                ),
                command_id=command.command_id,
                version=version,
                kind=record_word(aggregate.kind),
                slug=aggregate.slug,
            )
        return self._outcome(command, aggregate, version, None, replayed=True)

    def _save(self, command: Command, aggregate: DecisionRecord, batch: Batch | None) -> Outcome:
        if batch is not None:
            batch.touched[aggregate.id] = aggregate
            return self._outcome(command, aggregate, aggregate.version, None, False)
        recordings = self.save(aggregate)
        self._remember([aggregate])
        notification_id = recordings[-1].notification.id if recordings else None
        return self._outcome(command, aggregate, aggregate.version, notification_id, False)

    def _outcome(
        self,
        command: Command,
        aggregate: DecisionRecord,
        version: int,
        notification_id: int | None,
        replayed: bool,
    ) -> Outcome:
        return Outcome.model_construct(  # built from trusted values: no validation needed
            command=command.command,
            command_id=command.command_id,
            kind=aggregate.kind,
            id=aggregate.slug,
            version=version,
            notification_id=notification_id,
            replayed=replayed,
        )

    # -- reading the record ----------------------------------------------------------------

    def record(self, kind: type[Record], slug: str, version: int | None = None) -> Record:
        """A programme, initiative, commitment or community by its id, for a reader.

        Decisions work on the cached aggregate itself and change it before it is saved, so
        a reader (a web page, an audit view, in another thread) waits for the decision in
        progress and gets its own copy of what was saved: without the wait it could see a
        step that is then refused at the save, and without the copy its object would change
        under it with the next decision (tests/faults/test_readers.py)."""
        with self._deciding:
            found = self._load(kind, slug, None, version)
            return found if version is not None else copy.deepcopy(found)

    def _load(
        self, kind: type[Record], slug: str, batch: Batch | None, version: int | None = None
    ) -> Record:
        """The aggregate itself (cached, or in the batch), for a decision to change."""
        found = self._get_or_none(kind.create_id(slug), version, batch)
        if not isinstance(found, kind):
            raise NotFoundError(
                N_("no {kind} '{slug}'"), kind=record_word(kind.__name__.lower()), slug=slug
            )
        return found

    def programme(self, programme_id: str, version: int | None = None) -> Programme:
        return self.record(Programme, programme_id, version)

    def initiative(self, initiative_id: str, version: int | None = None) -> Initiative:
        return self.record(Initiative, initiative_id, version)

    def history(self, aggregate: DecisionRecord) -> list[Any]:
        """Every event of an aggregate, oldest first."""
        return list(self.events.get(aggregate.id))

    def _get_or_none(
        self, id_: UUID, version: int | None = None, batch: Batch | None = None
    ) -> DecisionRecord | None:
        if version is not None:
            batch = None  # an old version is read from the store, never decided on
        if batch is not None and id_ in batch.touched:
            return batch.touched[id_]
        try:
            found: object = self.repository.get(id_, version=version, projector_func=fold)
        except AggregateNotFoundError:
            return None
        if not isinstance(found, DecisionRecord):
            raise TypeError(f"{id_} holds a {type(found).__name__}, not a Kringloop record")
        if batch is not None:
            batch.touched[id_] = found  # a batch decides on one in-memory object of each
        return found
