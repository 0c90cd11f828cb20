"""Retention and destruction in the store: which stored events are past their period under
the table in force (domain.archive), and carrying out an approved destruction list.

Destroying an event rewrites its row in place: the topic becomes the tombstone
(``domain.archive:Destroyed``) and the state a small tombstone naming the original topic,
the content hash the chain recorded, the day and the list. The chain row is not touched:
`audit verify` accepts the difference only where an approved list names that event and
that hash. The old bytes are then overwritten (SQLite: secure_delete and VACUUM;
PostgreSQL: VACUUM FULL), the touched records' snapshots deleted and the read models
rebuilt, so the destroyed content is in no figure.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from adapters.audit.chain import content_hash
from adapters.audit.verify import DESTROYED_TOPIC
from adapters.store import Stores, vacuum_sqlite
from domain.archive import (
    AFTER_EFFECTIVE,
    AFTER_END,
    ARCHIVE,
    DEFAULT_TABLE,
    PERMANENT,
    Archive,
    Destroyed,
)
from domain.engine import Engine, fold
from domain.errors import NotFoundError, RuleError
from domain.messages import N_

# the initiative's events by the kind of record they are (domain.archive.RECORD_KINDS);
# every other initiative event is an "initiative-decision"
INITIATIVE_KINDS = {
    "ConsultationResponseRecorded": "consultation-response",
    "ConsortiumMemberJoined": "consortium-formation",
    "FinancialArrangementAgreed": "consortium-formation",
    "FinancialArrangementNotNeeded": "consortium-formation",
    "ConsortiumFormed": "consortium-formation",
    "BoardWithdrew": "board-withdrawal",
    "ScaleUpAssessed": "scale-up",
    "ScaleUpStarted": "scale-up",
    "ScaleUpCompleted": "scale-up",
    **dict.fromkeys(
        (
            "Proposed",
            "ExpertScanStarted",
            "InnovativeOptionRecorded",  # the options chosen from (the scan's outcome)
            "PreconditionRegistered",  # what consortium formation rested on
            "PreconditionFulfilled",
            "PreconditionWaived",
            "PreconditionFailed",
            "ExpertScanCompleted",
            "MarketConsultationOpened",
            "MarketConsultationClosed",
            "Stalled",
            "Resumed",
            "Abandoned",
            "Reopened",
            "FellBack",
            "DecisionCorrected",
        ),
        "initiative-lifecycle",
    ),
}
OTHER_KINDS = {
    "programme": "programme-decision",
    "authority": "authority-register",
    "archive": "destruction-lists",
    "commitment": "procurement",
    "community": "procurement",
}


class RetentionError(RuleError):
    """A destruction list that may not be approved or carried out, and why, in one line (a
    refusal: the CLI says it in its language)."""


@dataclass(frozen=True)
class InForce:
    rows: list[dict[str, Any]]
    since: date | None  # None: the default table (nothing decided yet)
    command_id: str


def archive_of(engine: Engine) -> Archive | None:
    try:
        return engine.record(Archive, ARCHIVE)
    except NotFoundError:
        return None


def in_force(engine: Engine) -> InForce:
    found = archive_of(engine)
    if found is None or not found.tables:
        return InForce([dict(r) for r in DEFAULT_TABLE], None, "")
    latest = found.tables[-1]
    return InForce(list(latest["rows"]), latest["since"], str(latest["command_id"]))


def record_kind(topic: str) -> tuple[str, str]:
    """The kind of record a stored event is, and the event's name, from its topic."""
    qualified = topic.split(":", 1)[-1]
    owner, _, name = qualified.partition(".")
    aggregate = owner.lower()
    if aggregate == "initiative":
        return INITIATIVE_KINDS.get(name, "initiative-decision"), name
    return OTHER_KINDS.get(aggregate, "programme-decision"), name


def years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def ended_on(events: list[Any]) -> date | None:
    """The day an initiative ended (abandoned, or scale-up completed), or None while it
    runs: reopening or falling back makes it run again."""
    end: date | None = None
    for e in events:
        name = type(e).__name__
        if name in ("Abandoned", "ScaleUpCompleted"):
            end = e.decision.effective
        elif name in ("Reopened", "FellBack"):
            end = None
    return end


def _stored(engine: Engine) -> Iterator[tuple[str, list[Any]]]:
    """Every stored row, by aggregate (hex id), in version order."""
    recorder: Any = engine.recorder
    after: tuple[str, int] = ("", 0)
    rows: list[Any] = []
    while page := recorder.stored_page(after, 20_000):
        rows.extend(page)
        after = (page[-1].originator_id, page[-1].version)
    for aggregate, group in groupby(rows, key=lambda r: r.originator_id):
        yield aggregate, list(group)


def _event(engine: Engine, row: Any) -> Any:
    return engine.mapper.to_domain_event(
        StoredEvent(
            originator_id=UUID(row.originator_id),
            originator_version=row.version,
            topic=row.topic,
            state=row.state,
        )
    )


def due(engine: Engine, on: date) -> list[dict[str, Any]]:
    """Every stored event past its period on ``on`` under the table in force. An
    aggregate's first event (its creation, which every later event rests on) is left out."""
    from adapters.audit.verify import event_name

    table = {r["kind"]: r for r in in_force(engine).rows}
    found: list[dict[str, Any]] = []
    for aggregate, rows in _stored(engine):
        events = [_event(engine, r) for r in rows]
        name = (event_name(events[0]) or "") if events and rows[0].version == 1 else ""
        end = ended_on(events) if name.startswith("initiative ") else None
        for row, e in zip(rows, events, strict=True):
            if row.version == 1 or row.topic == DESTROYED_TOPIC:
                continue
            kind, event = record_kind(row.topic)
            rule = table.get(kind, {"rule": PERMANENT})
            until = _until(rule, e.decision.effective, end)
            if until is None or until > on:
                continue
            found.append(
                {
                    "aggregate": aggregate,
                    "name": name,
                    "version": row.version,
                    "event": event,
                    "record_kind": kind,
                    "content_hash": content_hash(row.originator_id, row.topic, row.state),
                    "rule": rule_words(rule),
                    "due_on": until.isoformat(),
                }
            )
    return found


def _until(rule: dict[str, Any], effective: date, end: date | None) -> date | None:
    if rule["rule"] == AFTER_EFFECTIVE:
        return years_after(effective, int(rule["years"]))
    if rule["rule"] == AFTER_END and end is not None:
        return years_after(end, int(rule["years"]))
    return None


def rule_words(rule: dict[str, Any]) -> str:
    if rule["rule"] == AFTER_END:
        return f"{rule['years']} years after the initiative ends"
    if rule["rule"] == AFTER_EFFECTIVE:
        return f"{rule['years']} years after the decision took effect"
    return "permanent"


# -- carrying out a list ------------------------------------------------------------------


@dataclass(frozen=True)
class Done:
    number: int
    destroyed: int
    aggregates: int
    rebuilt: int
    before: int = 0  # destroyed under this list already (a run cut short, carried on)


_COMPARED = ("event", "record_kind", "rule", "due_on", "content_hash")


def check_approval(engine: Engine, entries: list[dict[str, Any]], on: date) -> None:
    """Every entry of a draft as the store has it on ``on``, the approval day: its kind,
    rule, due date and content hash worked out again (a file may have been edited), and
    past its period; else RetentionError saying which and why."""
    current = {(e["aggregate"], e["version"]): e for e in due(engine, on)}
    for entry in entries:
        key = (entry.get("aggregate"), entry.get("version"))
        found = current.get(key)
        if found is None:
            raise RetentionError(
                N_(
                    "{record} version {version} is not past its retention period on {day} "
                    "under the table in force, or was destroyed already: leave it out of "
                    "the list"
                ),
                record=entry.get("name") or key[0],
                version=key[1],
                day=on,
            )
        differs = [f for f in _COMPARED if entry.get(f) != found[f]]
        if differs:
            raise RetentionError(
                N_(
                    "{record} version {version} in the file does not match the store "
                    "({found}): make the list again with `kringloop retention due --out`"
                ),
                record=found["name"] or key[0],
                version=key[1],
                found=", ".join(f if f == "content_hash" else f"{f}: {found[f]}" for f in differs),
            )


def approval_check(engine: Engine, command: Any, decision: Any) -> None:
    """The engine's check of an approve-destruction command (domain.engine.command_checks),
    at every door: its entries as the store has them on the approval's day."""
    check_approval(engine, command.model_dump(mode="json")["entries"], decision.effective)


def _keys(entries: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    return sorted(
        (str(e.get("aggregate")), int(e.get("version") or 0), str(e.get("content_hash")))
        for e in entries
        if isinstance(e, dict)
    )


def _destroyed_under(engine: Engine, aggregate: str) -> dict[int, int]:
    """The versions of a record destroyed already, with the list each was destroyed under."""
    found = {}
    for s in engine.recorder.select_events(UUID(aggregate)):
        if s.topic == DESTROYED_TOPIC:
            tomb: Any = engine.mapper.to_domain_event(s)
            found[s.originator_version] = int(tomb.list_number)
    return found


def check_list(
    engine: Engine, draft: dict[str, Any], today: date
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The approved list a file stands for, and its entries not yet destroyed, if the file
    names exactly the approved entries and each of those may be destroyed today; else
    RetentionError saying why, in one line."""
    number = draft.get("list")
    archive = archive_of(engine)
    approved = archive.approved(int(number)) if archive and isinstance(number, int) else None
    if approved is None and number is None:
        raise RetentionError(
            N_(
                "this destruction list has no number: it was not approved; approve it first "
                "with `kringloop retention approve`"
            )
        )
    if approved is None:
        raise RetentionError(
            N_(
                "destruction list {number} was not approved: approve it first with "
                "`kringloop retention approve`"
            ),
            number=str(number),
        )
    entries = draft.get("entries")
    listed, given = _keys(approved["entries"]), _keys(entries if isinstance(entries, list) else [])
    if listed != given:
        raise RetentionError(
            N_(
                "the file's entries are not those of approved list {number} ({missing} left "
                "out, {added} added or changed): a list is carried out whole, as approved; "
                "was the file edited after approval?"
            ),
            number=number,
            missing=len(set(listed) - set(given)),
            added=len(set(given) - set(listed)),
        )
    current = {(e["aggregate"], e["version"]): e for e in due(engine, today)}
    done: dict[str, dict[int, int]] = {}
    pending = []
    for entry in approved["entries"]:
        aggregate, version = str(entry["aggregate"]), int(entry["version"])
        if aggregate not in done:
            done[aggregate] = _destroyed_under(engine, aggregate)
        if done[aggregate].get(version) == number:
            continue  # destroyed by an earlier run of this list
        now = current.get((aggregate, version))
        if now is None:
            raise RetentionError(
                N_(
                    "{record} version {version} is not past its retention period today "
                    "under the table in force, or was destroyed under another list"
                ),
                record=entry.get("name") or aggregate,
                version=version,
            )
        if now["content_hash"] != entry["content_hash"]:
            raise RetentionError(
                N_("{record} version {version} as stored differs from what list {number} approved"),
                record=entry.get("name") or aggregate,
                version=version,
                number=number,
            )
        pending.append(entry)
    return approved, pending


def destroy(stores: Stores, draft: dict[str, Any], today: date) -> Done:
    """Carry out an approved list: tombstone each event, overwrite the old bytes, drop the
    snapshots of the records touched, rebuild the read models. A run cut short is carried
    on: the entries destroyed already are left as they are, the rest destroyed, and the
    bytes, snapshots and read models seen to again."""
    engine = stores.engine
    approved, pending = check_list(engine, draft, today)
    number = int(approved["number"])
    by_aggregate: dict[str, list[int]] = {}
    for entry in pending:
        by_aggregate.setdefault(entry["aggregate"], []).append(int(entry["version"]))
    rewrites: list[tuple[str, int, str, bytes]] = []
    for aggregate, versions in by_aggregate.items():
        rewrites.extend(_tombstones(engine, aggregate, set(versions), today, number))
    _check_read_models(engine, {(a, v) for a, vs in by_aggregate.items() for v in vs})
    touched = {str(e["aggregate"]) for e in approved["entries"]}
    if stores.settings.database_url:
        _rewrite_postgres(stores, rewrites, touched)
    else:
        _rewrite_sqlite(stores, rewrites, touched)
    engine._forget()  # the cached records hold what was destroyed
    rebuilt = stores.runner.rebuild()
    if not stores.settings.database_url:
        vacuum_sqlite(str(stores.settings.home / "read.sqlite"))
    before = len(approved["entries"]) - len(pending)
    return Done(number, len(rewrites), len(touched), rebuilt, before)


def _tombstones(
    engine: Engine, aggregate: str, versions: set[int], today: date, number: int
) -> list[tuple[str, int, str, bytes]]:
    """The rows that replace these events, after checking the record still loads."""
    stored = engine.recorder.select_events(UUID(aggregate))
    events, rewrites = [], []
    for s in stored:
        if s.originator_version not in versions:
            events.append(engine.mapper.to_domain_event(s))
            continue
        original: Any = engine.mapper.to_domain_event(s)
        tomb = Destroyed(
            originator_id=UUID(aggregate),
            originator_version=s.originator_version,
            timestamp=original.timestamp,
            original_topic=s.topic,
            content_hash=content_hash(aggregate, s.topic, bytes(s.state)),
            destroyed_on=today,
            list_number=number,
        )
        events.append(tomb)
        written = engine.mapper.to_stored_event(tomb)
        rewrites.append((aggregate, s.originator_version, written.topic, bytes(written.state)))
    try:
        fold(None, events)
    except Exception as error:  # a later event needs what would be destroyed
        raise RetentionError(
            f"destroying these events of {aggregate} would leave it unreadable ({error}); "
            "leave them out of the list"
        ) from None
    return rewrites


def _key(event: Any) -> tuple[str, int]:
    return event.originator_id.hex, event.originator_version


def _check_read_models(engine: Engine, doomed: set[tuple[str, int]]) -> None:
    """Build the read models without these events in a throw-away store first: a kept
    decision that refers to one of them (an option chosen, a precondition met) would stop
    every rebuild after the destruction."""
    from projections.sandbox import project_all, sandbox_store

    with sandbox_store() as store:
        try:
            project_all(
                engine,
                store,
                keep=lambda e: (e.originator_id.hex, e.originator_version) not in doomed,
            )
        except Exception as error:  # a projector's own error: the list is refused
            raise RetentionError(
                f"the read models cannot be built without these events: a kept decision refers "
                f"to one of them ({type(error).__name__}: {error}); leave it out of the list"
            ) from None


def _rewrite_sqlite(
    stores: Stores, rewrites: list[tuple[str, int, str, bytes]], touched: set[str]
) -> None:
    engine: Any = stores.engine
    events = engine.recorder.events_table_name
    snapshots = engine.snapshots.recorder.events_table_name if engine.snapshots else None
    path = str(stores.settings.events_path)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        conn.execute("PRAGMA secure_delete=ON")  # freed pages are zeroed, not left behind
        conn.execute("BEGIN IMMEDIATE")
        for aggregate, version, topic, state in rewrites:
            conn.execute(
                f"UPDATE {events} SET topic=?, state=? "  # noqa: S608
                "WHERE originator_id=? AND originator_version=?",
                (topic, state, aggregate, version),
            )
        if snapshots:
            for aggregate in touched:
                conn.execute(f"DELETE FROM {snapshots} WHERE originator_id=?", (aggregate,))  # noqa: S608
        conn.execute("COMMIT")
    finally:
        conn.close()
    vacuum_sqlite(path)


def _rewrite_postgres(
    stores: Stores, rewrites: list[tuple[str, int, str, bytes]], touched: set[str]
) -> None:
    import psycopg
    from psycopg.sql import SQL, Identifier

    engine: Any = stores.engine
    schema = engine.recorder.datastore.schema or "public"
    events = Identifier(schema), Identifier(engine.recorder.events_table_name)
    snapshots = (
        (Identifier(schema), Identifier(engine.snapshots.recorder.events_table_name))
        if engine.snapshots
        else None
    )
    url = str(stores.settings.database_url)
    with psycopg.connect(url, connect_timeout=10) as conn:
        for aggregate, version, topic, state in rewrites:
            conn.execute(
                SQL(
                    "UPDATE {}.{} SET topic=%s, state=%s WHERE originator_id=%s::uuid "
                    "AND originator_version=%s"
                ).format(*events),
                (topic, state, aggregate, version),
            )
        if snapshots:
            for aggregate in touched:
                conn.execute(
                    SQL("DELETE FROM {}.{} WHERE originator_id=%s::uuid").format(*snapshots),
                    (aggregate,),
                )
    with psycopg.connect(url, connect_timeout=10, autocommit=True) as conn:
        conn.execute(SQL("VACUUM FULL {}.{}").format(*events))  # rewrites: old tuples gone
        if snapshots:
            conn.execute(SQL("VACUUM FULL {}.{}").format(*snapshots))
