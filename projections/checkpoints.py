"""The read models as the decisions had taken effect by a past date, reached from a checkpoint
instead of the whole log: per month end M, an SQLite file holding the projection of every
event in effect by M recorded up to a position P (the decision log left out). A date X is
its month's checkpoint, copied into memory, plus the remainder (events in effect after M and
by X, and events recorded after P in effect by X), found through the live decision log, an
index by effective date. Checkpoints are built on first need and extended as the log grows.

The remainder is applied after the checkpoint's events, so it equals projecting everything in
effect by X in notification order only where no remainder event should have come before a
checkpointed event it does not commute with: one of the same aggregate (a late entry), or a
stream's registration and a proposal in that stream. Each checkpoint keeps, per such key,
the last position that read and wrote it. An aggregate overtaken so is taken back (its rows
removed, its checkpointed events projected again in order with the remainder); a programme
or a stream overtaken means projecting afresh every event in effect by X.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from datetime import date, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, func, select, text
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.pool import StaticPool

from domain.engine import Engine
from domain.programme import Programme
from projections.projector import project
from projections.runner import fewer_collections, read_position
from projections.store import LIVE_TABLES, ReadStore
from projections.working_set import Row, WorkingSet

FORMAT = "1"  # raise when what a checkpoint holds changes: older files are then rebuilt
BATCH = 5000
GAP = 512  # notification ids this close are fetched in one query, the others skipped
SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoint_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoint_keys (
    key TEXT PRIMARY KEY, last_read INTEGER NOT NULL, last_write INTEGER NOT NULL
);
"""
Pairs = list[tuple[int, Any]]


def month_end(day: date) -> date:
    following = day.replace(day=28) + timedelta(days=4)
    return following - timedelta(days=following.day)


class DecisionIndex:
    """The live read models' decision log, read (never written) as an index of the event
    store by effective date: every event that changes a read model has its line in it."""

    def __init__(self, reads: ReadStore) -> None:
        self.reads = reads
        self.table = LIVE_TABLES["decisions"]

    def position(self) -> int:
        return read_position(self.reads)

    def ids(
        self, upto: int, by: date, after: int = 0, effective_after: date | None = None
    ) -> list[int]:
        """Positions in (after, upto] of the events in effect by ``by`` (and after
        ``effective_after``), in order."""
        if after >= upto:
            return []
        t = self.table
        query = select(t.c.notification_id).where(
            t.c.notification_id > after, t.c.notification_id <= upto, t.c.effective <= by
        )
        if effective_after is not None:
            query = query.where(t.c.effective > effective_after)
        with self.reads.engine.connect() as conn:
            return sorted(conn.execute(query).scalars())

    def subject_ids(self, kind: str, subject_id: str, upto: int, by: date) -> list[int]:
        """Positions up to ``upto`` of one subject's events in effect by ``by``, in order."""
        t = self.table
        query = select(t.c.notification_id).where(
            t.c.subject_id == subject_id,
            t.c.subject_kind == kind,
            t.c.notification_id <= upto,
            t.c.effective <= by,
        )
        with self.reads.engine.connect() as conn:
            return sorted(conn.execute(query).scalars())

    def month_ends(self) -> list[date]:
        """The month ends of every month some decision took effect in: one index seek per
        month, not a pass over the log."""
        effective = self.table.c.effective
        found: list[date] = []
        with self.reads.engine.connect() as conn:
            while True:
                query = select(func.min(effective))
                if found:
                    query = query.where(effective > found[-1])
                first = conn.execute(query).scalar_one_or_none()
                if first is None:
                    return found
                found.append(month_end(_day(first)))


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


class Checkpoints:
    """Month-end checkpoints of one event store, kept as SQLite files in ``folder``."""

    def __init__(self, engine: Engine, reads: ReadStore, folder: Path) -> None:
        self.engine = engine
        self.index = DecisionIndex(reads)
        self.folder = folder
        self._fingerprints: dict[int, str] = {}

    @contextmanager
    def as_of(self, day: date) -> Iterator[ReadStore]:
        """A throw-away read store (in memory) holding exactly the projection of every
        event in effect by ``day``, in notification order."""
        indexed = self.index.position()
        head = max(self.engine.recorder.max_notification_id() or 0, indexed)
        before = [m for m in self.index.month_ends() if m <= day]
        with fewer_collections():
            base = self._ensure(before[-1], before, indexed) if before else None
            store = _in_memory(_image(base) if base is not None else None)
            try:
                position = _position(store)
                month = before[-1] if base is not None else None
                if not self._advance(store, day, month, position, indexed, head):
                    store.close()
                    store = _in_memory(None)
                    self._advance(store, day, None, 0, indexed, head)
                yield store
            finally:
                store.close()

    # -- building and keeping the checkpoints ------------------------------------------

    def _ensure(self, month: date, months: list[date], indexed: int) -> Path:
        """The checkpoint of ``month``, built (from the last one before it) or extended to
        the indexed position first when needed."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(month)
        if self._valid(path, indexed):
            self._extend(path, month, indexed)
            return path
        earlier = [m for m in months if m < month and self._valid(self._path(m), indexed)]
        start = earlier[-1] if earlier else None
        if start is not None:
            self._extend(self._path(start), start, indexed)
        store = _in_memory(_image(self._path(start)) if start is not None else None)
        try:
            for m in [m for m in months if (start is None or m > start) and m <= month]:
                if not self._advance(store, m, start, _position(store), indexed, indexed):
                    store.close()
                    store = _in_memory(None)
                    self._advance(store, m, None, 0, indexed, indexed)
                self._stamp(store, m, indexed)
                _save(store, self._path(m))
                start = m
        finally:
            store.close()
        return path

    def _extend(self, path: Path, month: date, indexed: int) -> None:
        """Project into a checkpoint the events recorded since its position that were in
        effect by its month end: all recorded after every event it holds, so no conflict."""
        store = _open(path)
        try:
            position = _position(store)
            if position >= indexed:
                return
            ids = self.index.ids(indexed, month, after=position)
            with store.engine.begin() as conn:
                claimed = conn.execute(
                    text(
                        "UPDATE checkpoint_meta SET value = :new"
                        " WHERE name = 'position' AND value = :old"
                    ),
                    {"new": str(indexed), "old": str(position)},
                )
                if claimed.rowcount != 1:
                    return  # another process extended it first
                conn.execute(
                    text("UPDATE checkpoint_meta SET value = :f WHERE name = 'fingerprint'"),
                    {"f": self._fingerprint(indexed)},
                )
                for batch in _batches(self._fetch(ids)):
                    _apply(conn, batch)
        finally:
            store.close()

    def _advance(
        self,
        store: ReadStore,
        day: date,
        month: date | None,
        position: int,
        indexed: int,
        head: int,
    ) -> bool:
        """Project into ``store`` (the checkpoint of ``month`` at ``position``, or empty) the
        rest of what was in effect by ``day``; False, having written nothing, on a conflict."""
        early = self.index.ids(position, day, effective_after=month) if month else []
        late = self.index.ids(indexed, day, after=position)
        first = list(self._fetch(early))
        with store.engine.begin() as conn:
            overtaken = _conflicts(conn, first) if first else set()
            if overtaken:
                again = self._take_back(conn, overtaken, month, position)
                if again is None:
                    return False
                first = sorted(first + again, key=itemgetter(0))
            batches = _batches(_chain(first, self._fetch(late), self._tail(indexed, head, day)))
            for batch in batches:
                _apply(conn, batch)
        return True

    def _take_back(
        self, conn: Connection, overtaken: set[str], month: date | None, position: int
    ) -> Pairs | None:
        """Remove from the store the rows of the aggregates whose checkpointed events a
        remainder event should have come before, and return those events, to be projected
        again in order with the remainder; None where that cannot be done alone (a
        programme's rows, a stream's, which proposals read)."""
        again: Pairs = []
        for key in overtaken:
            subject = _subject(conn, key)
            if subject is None or month is None:
                return None
            kind, subject_id = subject
            for table, column in OWN_ROWS[kind]:
                value = key if column == "aggregate_id" else subject_id
                conn.exec_driver_sql(f'DELETE FROM "{table}" WHERE "{column}" = ?', (value,))  # noqa: S608 (our own names)
            ids = self.index.subject_ids(kind, subject_id, upto=position, by=month)
            again += self._fetch(ids)
        if _conflicts(conn, again, own=False):
            return None  # a proposal taken back would now read a stream registered after it
        return again

    def _stamp(self, store: ReadStore, month: date, position: int) -> None:
        meta = {
            "format": _format(),
            "month_end": month.isoformat(),
            "position": str(position),
            "fingerprint": self._fingerprint(position),
        }
        with store.engine.begin() as conn:
            for name, value in meta.items():
                conn.execute(
                    text("INSERT OR REPLACE INTO checkpoint_meta (name, value) VALUES (:n, :v)"),
                    {"n": name, "v": value},
                )

    def _valid(self, path: Path, indexed: int) -> bool:
        """A checkpoint of this store, in this version's format (anything else is removed),
        holding no event the live decision log has not indexed (it is then left, to be
        rebuilt: the read models were recreated and are catching up)."""
        if not path.exists():
            return False
        try:
            with closing(sqlite3.connect(path)) as db:
                meta = dict(db.execute("SELECT name, value FROM checkpoint_meta").fetchall())
            position = int(meta["position"])
            ok = meta.get("format") == _format() and meta.get("fingerprint") == (
                self._fingerprint(position)
            )
        except (sqlite3.Error, KeyError, ValueError):
            ok, position = False, 0
        if not ok:
            path.unlink(missing_ok=True)
        return ok and position <= indexed

    def _fingerprint(self, position: int) -> str:
        """Which store a checkpoint belongs to: the digest of its last event."""
        if position not in self._fingerprints:
            found = self.engine.recorder.select_notifications(
                start=position, limit=1, stop=position
            )
            digest = ""
            if found and found[0].id == position:
                n = found[0]
                digest = hashlib.sha256(
                    str(n.originator_id).encode()
                    + str(n.originator_version).encode()
                    + n.topic.encode()
                    + n.state
                ).hexdigest()
            self._fingerprints[position] = digest
        return self._fingerprints[position]

    def _path(self, month: date) -> Path:
        return self.folder / f"{month.isoformat()}.sqlite"

    # -- reading the event store ---------------------------------------------------------

    def _fetch(self, ids: list[int]) -> Iterator[tuple[int, Any]]:
        """The events at these positions, decoded, in order: runs of close positions are
        read in one query each, the events between them skipped undecoded."""
        wanted = set(ids)
        i = 0
        while i < len(ids):
            j = i
            while (
                j + 1 < len(ids) and ids[j + 1] - ids[j] <= GAP and ids[j + 1] - ids[i] < BATCH * 4
            ):
                j += 1
            found = self.engine.recorder.select_notifications(
                start=ids[i], limit=ids[j] - ids[i] + 1, stop=ids[j]
            )
            for n in found:
                if n.id in wanted:
                    yield n.id, self.engine.mapper.to_domain_event(n)
            i = j + 1

    def _tail(self, indexed: int, head: int, day: date) -> Iterator[tuple[int, Any]]:
        """Events the live read models have not indexed yet, in effect by ``day``."""
        position = indexed
        while position < head and (
            found := self.engine.recorder.select_notifications(
                start=position, limit=BATCH, stop=head, inclusive_of_start=False
            )
        ):
            position = found[-1].id
            for n in found:
                event: Any = self.engine.mapper.to_domain_event(n)
                if event.decision.effective <= day:
                    yield n.id, event


# -- applying events and keeping their keys -----------------------------------------------


class _Unlogged(WorkingSet):
    """The decision log is left out of checkpoints: nothing projected reads it, and it is
    most of a read store's size."""

    def append(self, table: str, row: Row) -> None:
        if table != "decisions":
            super().append(table, row)


def _apply(conn: Connection, events: Pairs) -> None:
    ws = _Unlogged(LIVE_TABLES)
    ws.load(conn, (e.originator_id.hex for _, e in events))
    reads: dict[str, int] = {}
    writes: dict[str, int] = {}
    for notification_id, event in events:
        project(ws, notification_id, event)
        read, written = _keys(event)
        for key in read:
            reads[key] = notification_id
        for key in written:
            writes[key] = notification_id
    ws.flush(conn)
    rows = [(k, reads.get(k, 0), writes.get(k, 0)) for k in reads.keys() | writes.keys()]
    if rows:
        _remember_keys(conn, rows)


def _remember_keys(conn: Connection, rows: list[tuple[str, int, int]]) -> None:
    conn.exec_driver_sql(
        "INSERT INTO checkpoint_keys (key, last_read, last_write) VALUES (?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET last_read = max(last_read, excluded.last_read), "
        "last_write = max(last_write, excluded.last_write)",
        rows,
    )


def _keys(event: Any) -> tuple[list[str], list[str]]:
    """What an event's projection reads and writes beyond nothing: its own aggregate's rows
    (both), and a stream's row (registration writes it, a proposal reads its parent)."""
    name = type(event).__qualname__
    if name.split(".")[0] not in ("Initiative", "Programme", "Commitment", "Community"):
        return [], []  # the authority register's events change no read model's rows
    own = event.originator_id.hex
    if name == "Initiative.Proposed":
        stream = f"stream:{Programme.create_id(event.programme_id).hex}:{event.stream}"
        return [own, stream], [own]
    if name == "Programme.StreamRegistered":
        return [own], [own, f"stream:{own}:{event.stream}"]
    return [own], [own]


def _conflicts(conn: Connection, events: Pairs, own: bool = True) -> set[str]:
    """The keys on which an event (to be applied after the checkpoint's) came before a
    checkpointed event it does not commute with; ``own=False`` leaves out each event's own
    aggregate (its checkpointed events taken back)."""
    wanted = {k for _, e in events for keys in _keys(e) for k in keys}
    known: dict[str, tuple[int, int]] = {}
    listed = sorted(wanted)
    for start in range(0, len(listed), 500):
        chunk = listed[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        for key, last_read, last_write in conn.exec_driver_sql(
            f"SELECT key, last_read, last_write FROM checkpoint_keys WHERE key IN ({marks})",  # noqa: S608 (only marks)
            tuple(chunk),
        ):
            known[key] = (last_read, last_write)
    found = set()
    for notification_id, event in events:
        read, written = _keys(event)
        skip = "" if own else event.originator_id.hex
        found |= {k for k in read if k != skip and known.get(k, (0, 0))[1] > notification_id}
        found |= {k for k in written if k != skip and max(known.get(k, (0, 0))) > notification_id}
    return found


OWN_ROWS = {  # the rows an aggregate alone writes: by its id, or by its subject's id
    "initiative": [
        ("initiatives", "aggregate_id"),
        ("preconditions", "aggregate_id"),
        ("impact_reports", "initiative_id"),
    ],
    "commitment": [("commitments", "aggregate_id"), ("spend_reports", "commitment_id")],
    "community": [
        ("communities", "aggregate_id"),
        ("community_meetings", "community_id"),
        ("joint_trajectories", "community_id"),
    ],
}


def _subject(conn: Connection, aggregate: str) -> tuple[str, str] | None:
    """Which initiative, commitment or community an aggregate is, from its own row; None
    for anything else."""
    for kind, table in (
        ("initiative", "initiatives"),
        ("commitment", "commitments"),
        ("community", "communities"),
    ):
        found = conn.exec_driver_sql(
            f'SELECT "{kind}_id" FROM "{table}" WHERE aggregate_id = ?',  # noqa: S608 (our own names)
            (aggregate,),
        ).scalar_one_or_none()
        if found is not None:
            return kind, str(found)
    return None


# -- files ---------------------------------------------------------------------------------


def _open(path: Path) -> ReadStore:
    store = ReadStore(f"sqlite:///{path}")
    _prepare(store)
    return store


def _prepare(store: ReadStore) -> None:
    store.create()
    with store.engine.begin() as conn:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.exec_driver_sql(statement)


def _in_memory(image: bytearray | None) -> ReadStore:
    """A read store in memory: empty, or a copy of a checkpoint's image. One connection
    (an in-memory database lives in its connection), used by one thread at a time."""
    db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    if image is not None:
        db.deserialize(image)
    store = ReadStore("sqlite://")
    store.engine.dispose()
    store.engine = create_engine("sqlite://", creator=lambda: db, poolclass=StaticPool)
    sqlalchemy_event.listen(store.engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    _prepare(store)
    return store


def _image(path: Path) -> bytearray:
    """A consistent image of a checkpoint file, ready to open in memory."""
    with closing(sqlite3.connect(path)) as db:
        return _rollback_journal(db.serialize())


def _save(store: ReadStore, path: Path) -> None:
    """Write an in-memory store's image to ``path``, put in place at once."""
    with store.engine.connect() as conn:
        db: Any = conn.connection.dbapi_connection
        image = _rollback_journal(db.serialize())
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")  # one per writer
    partial.write_bytes(image)
    os.replace(partial, path)


def _rollback_journal(image: bytes) -> bytearray:
    """The image marked as a rollback-journal database: an image marked WAL (header bytes
    18 and 19) cannot be opened in memory."""
    marked = bytearray(image)
    marked[18:20] = b"\x01\x01"
    return marked


def _position(store: ReadStore) -> int:
    with store.engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT value FROM checkpoint_meta WHERE name = 'position'"
        ).scalar_one_or_none()
    return int(found or 0)


def _format() -> str:
    columns = ";".join(
        f"{n}:{','.join(c.name for c in t.columns)}" for n, t in sorted(LIVE_TABLES.items())
    )
    return f"{FORMAT}:{hashlib.sha256(columns.encode()).hexdigest()[:16]}"


def _chain(*parts: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
    for part in parts:
        yield from part


def _batches(events: Iterable[tuple[int, Any]]) -> Iterator[Pairs]:
    batch: Pairs = []
    for pair in events:
        batch.append(pair)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
