"""The engine: an eventsourcing Application whose entry point executes catalogue commands."""

from __future__ import annotations

import copy
import importlib
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
from eventsourcing.persistence import (
    ApplicationRecorder,
    EventStore,
    IntegrityError,
    JSONTranscoder,
    Recording,
)
from eventsourcing.popo import POPOApplicationRecorder

from domain import policy
from domain.applied import (
    Applied,
    CommandTable,
    MemoryEvents,
    command_rows,
    recorded_commands,
)
from domain.archive import Archive
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
from domain.notices import Outbox, notices_of
from domain.personal import Keyring, NoKeyring, PersonalAsDict, sealing
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
    "archive": Archive,
}
Record = TypeVar("Record", bound=DecisionRecord)
CommandCheck = Callable[["Engine", Command, Decision], None]
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
        self.applied: dict[tuple[UUID, str], Applied] = {}  # decided here, not yet saved


class DecisionStore(EventStore[UUID]):
    """The event store, writing with the events which command produced which version
    (domain.applied) when its recorder keeps a command table. A store written before the
    table existed gets its rows from the stored events once, before the first write."""

    checked = False

    def put(self, domain_events: Any, **kwargs: Any) -> list[Recording[UUID]]:
        if isinstance(self.recorder, CommandTable):
            if not self.checked:
                self.backfill()
            kwargs["commands"] = command_rows(domain_events)
        if isinstance(self.recorder, Outbox):
            kwargs["notices"] = notices_of(domain_events)
        return super().put(domain_events, **kwargs)

    def backfill(self) -> None:
        recorder = self.recorder
        if (
            isinstance(recorder, ApplicationRecorder)
            and isinstance(recorder, CommandTable)
            and not recorder.has_commands()
        ):
            position = 0
            while page := recorder.select_notifications(
                start=position, limit=5000, inclusive_of_start=False
            ):
                position = page[-1].id
                recorder.insert_commands(command_rows(map(self.mapper.to_domain_event, page)))
        self.checked = True


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
    snapshotting_projectors = dict.fromkeys(snapshotting_intervals, fold)

    def __init__(
        self, env: dict[str, str] | None = None, clock: Callable[[], date] | None = None
    ) -> None:
        super().__init__(env)
        self.clock = clock or today_in_programme_tz
        self.keyring: Keyring = NoKeyring()  # personal data's keys (adapters.keyring)
        self.command_checks: dict[str, CommandCheck | str] = {}
        """Checks a command's content against the stored record before it is decided, at
        every door (a destruction list's entries against the store): by command name, a
        function or its ``module:name`` (imported when first needed)."""
        # One decision at a time per engine: decisions are made on the cached aggregates in
        # place, so two threads (the API's) deciding on one object at once recorded both
        # events under the first save, a command id twice (tests/faults/test_races.py).
        # Readers outside a decision take the lock too, and get a copy: see ``record``.
        # Other processes are kept apart by the store's optimistic concurrency.
        self._deciding = threading.RLock()

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """Save, then destroy the key of each person whose erasure was just recorded: through
        whichever door the decision came, what was sealed for them is unreadable from now."""
        recordings = super().save(*objs, **kwargs)
        for recording in recordings:
            event = recording.domain_event
            if type(event).__name__ == "SubjectForgotten" and isinstance(event, Authority.Event):
                self.keyring.forget(str(event.subject))  # type: ignore[attr-defined]
        return recordings

    def construct_recorder(self) -> ApplicationRecorder:
        recorder = super().construct_recorder()
        if type(recorder) is POPOApplicationRecorder:  # the memory store: a dict beside it
            return MemoryEvents()
        return recorder

    def construct_event_store(self) -> EventStore[UUID]:
        return DecisionStore(mapper=self.mapper, recorder=self.recorder)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(DecisionAsDict())
        transcoder.register(PersonalAsDict())

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
            batch.applied.update(self._applied_before(commands))
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
        replay = self._replay(command, batch)
        if replay is not None:
            return replay
        kind = AGGREGATES[command.group]
        if command.creates:
            return self._create(command, decision, kind.create_id(command.subject_id), batch)
        aggregate = self._load(kind, command.subject_id, batch)
        decision = self._authorise(command, aggregate, decision, batch)
        self._check(command, decision)
        with recorded_commands(self.applied_command), sealing(self.keyring):
            command.decide(aggregate, decision)  # a correction names a recorded command
        return self._save(command, aggregate, decision, batch)

    def _check(self, command: Command, decision: Decision) -> None:
        check = self.command_checks.get(command.command)
        if isinstance(check, str):
            module, _, name = check.partition(":")
            check = self.command_checks[command.command] = getattr(
                importlib.import_module(module), name
            )
        if check is not None:
            check(self, command, decision)

    def _create(
        self, command: Command, decision: Decision, id_: UUID, batch: Batch | None
    ) -> Outcome:
        existing = self._get_or_none(id_, None, batch)
        if existing is not None:
            raise AlreadyExistsError(
                N_("{kind} '{slug}' already exists"),
                kind=record_word(existing.kind),
                slug=existing.slug,
            )
        decision = self._authorise(command, None, decision, batch)
        return self._save(command, command.create(decision), decision, batch)

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

    def _replay(self, command: Command, batch: Batch | None) -> Outcome | None:
        """The earlier outcome of this command id on its record, if it was applied there;
        refused if it was another decision. A batch looked its commands up at its start."""
        key = (AGGREGATES[command.group].create_id(command.subject_id), command.command_id)
        applied = batch.applied.get(key) if batch is not None else self.applied_command(*key)
        if applied is None:
            return None
        if applied.digest != command.digest():
            raise CommandIdReusedError(
                N_(
                    "command id '{command_id}' was already used for a different decision "
                    "(version {version} of {kind} '{slug}')"
                ),
                command_id=command.command_id,
                version=applied.version,
                kind=record_word(command.group),
                slug=command.subject_id,
            )
        return self._outcome(command, applied.version, None, replayed=True)

    def _applied_before(self, commands: Sequence[Command]) -> dict[tuple[UUID, str], Applied]:
        """Which of these commands were applied already, in one look-up (a batch's)."""
        keys = {(AGGREGATES[c.group].create_id(c.subject_id), c.command_id) for c in commands}
        if isinstance(self.recorder, CommandTable):
            self._backfilled()
            return self.recorder.applied_commands(keys)
        found = {key: self.applied_command(*key) for key in keys}
        return {key: applied for key, applied in found.items() if applied is not None}

    def applied_command(self, originator_id: UUID, command_id: str) -> Applied | None:
        """The version a command produced on a record, and its digest, as recorded."""
        if isinstance(self.recorder, CommandTable):
            self._backfilled()
            return self.recorder.applied_command(originator_id, command_id)
        # a recorder without the table (the library's own): the record's stored events
        events: Iterable[Any] = self.events.get(originator_id)
        found = command_rows(e for e in events if e.decision.command_id == command_id)
        return Applied(found[-1].version, found[-1].digest) if found else None

    def _backfilled(self) -> None:
        if isinstance(self.events, DecisionStore) and not self.events.checked:
            self.events.backfill()

    def version_of_command(
        self, kind: type[DecisionRecord], slug: str, command_id: str
    ) -> Applied | None:
        """The version a command produced on a programme, initiative, ..., if recorded."""
        return self.applied_command(kind.create_id(slug), command_id)

    def _save(
        self, command: Command, aggregate: DecisionRecord, decision: Decision, batch: Batch | None
    ) -> Outcome:
        if batch is not None:
            batch.touched[aggregate.id] = aggregate
            key = (aggregate.id, command.command_id)
            batch.applied[key] = Applied(aggregate.version, decision.digest)
            return self._outcome(command, aggregate.version, None, False)
        recordings = self.save(aggregate)
        self._remember([aggregate])
        notification_id = recordings[-1].notification.id if recordings else None
        return self._outcome(command, aggregate.version, notification_id, False)

    def _outcome(
        self, command: Command, version: int, notification_id: int | None, replayed: bool
    ) -> Outcome:
        return Outcome.model_construct(  # built from trusted values: no validation needed
            command=command.command,
            command_id=command.command_id,
            kind=command.group,
            id=command.subject_id,
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
