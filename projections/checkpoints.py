"""The read models as the decisions had taken effect by a past date, reached from a checkpoint
instead of the whole log: per month end M, an SQLite file holding the projection of every
event in effect by M recorded up to a position P. A date X is its month's checkpoint, copied,
plus the remainder (events in effect after M and by X, and events recorded after P in effect
by X), found through the live decision log, an index by effective date.

The remainder is applied after the checkpoint's events, so it equals projecting everything in
effect by X in notification order only when no remainder event should have come before a
checkpointed event it does not commute with: one of the same aggregate, or a stream's
registration and a proposal in that stream. Each checkpoint keeps, per such key, the last
position that read and wrote it; a remainder event recorded before one of those is a
conflict, and the answer is then projected afresh from every event in effect by X.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select, text

from domain.engine import Engine
from domain.programme import Programme
from projections.projector import project
from projections.runner import PROJECTION, fewer_collections
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
        table = LIVE_TABLES["projection_position"]
        with self.reads.engine.connect() as conn:
            found = conn.execute(
                select(table.c.position).where(table.c.name == PROJECTION)
            ).scalar_one_or_none()
        return int(found or 0)

    def ids(
        self, upto: int, by: date, after: int = 0, effective_after: date | None = None
    ) -> list[int]:
        """Positions in (after, upto] of the events in effect by ``by`` (and after
        ``effective_after``), in order."""
        t = self.table
        query = select(t.c.notification_id).where(
            t.c.notification_id > after, t.c.notification_id <= upto, t.c.effective <= by
        )
        if effective_after is not None:
            query = query.where(t.c.effective > effective_after)
        with self.reads.engine.connect() as conn:
            return sorted(conn.execute(query).scalars())

    def month_ends(self, upto: int) -> list[date]:
        """The month ends of every month some decision up to ``upto`` took effect in."""
        t = self.table
        with self.reads.engine.connect() as conn:
            days = conn.execute(
                select(func.distinct(t.c.effective)).where(t.c.notification_id <= upto)
            ).scalars()
            return sorted(
                {month_end(d if isinstance(d, date) else date.fromisoformat(d)) for d in days}
            )


class Checkpoints:
    """Month-end checkpoints of one event store, kept as SQLite files in ``folder``."""

    def __init__(self, engine: Engine, reads: ReadStore, folder: Path) -> None:
        self.engine = engine
        self.index = DecisionIndex(reads)
        self.folder = folder
        self._fingerprints: dict[int, str] = {}

    @contextmanager
    def as_of(self, day: date) -> Iterator[ReadStore]:
        """A throw-away read store holding exactly the projection of every event in effect
        by ``day``, in notification order."""
        indexed = self.index.position()
        head = max(self.engine.recorder.max_notification_id() or 0, indexed)
        before = [m for m in self.index.month_ends(indexed) if m <= day]
        with fewer_collections(), tempfile.TemporaryDirectory(prefix="kringloop-asof-") as tmp:
            answer = Path(tmp) / "read.sqlite"
            base = self._ensure(before[-1], before, indexed) if before else None
            position, month = 0, None
            if base is not None:
                _copy(base, answer)
            store = _open(answer)
            try:
                if base is not None:
                    position, month = _position(store), before[-1]
                if not self._advance(store, day, month, position, indexed, head):
                    store.close()
                    answer.unlink()
                    store = _open(answer)
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
        if self._valid(path):
            self._extend(path, month, indexed)
            return path
        earlier = [m for m in months if m < month and self._valid(self._path(m))]
        start = earlier[-1] if earlier else None
        with tempfile.TemporaryDirectory(prefix="building-", dir=self.folder) as tmp:
            work = Path(tmp) / "work.sqlite"
            if start is not None:
                self._extend(self._path(start), start, indexed)
                _copy(self._path(start), work)
            store = _open(work)
            try:
                for m in [m for m in months if (start is None or m > start) and m <= month]:
                    if not self._advance(
                        store, m, start, indexed if start else 0, indexed, indexed
                    ):
                        store.close()
                        work.unlink()
                        store = _open(work)
                        self._advance(store, m, None, 0, indexed, indexed)
                    self._stamp(store, m, indexed)
                    store.close()
                    _copy(work, self._path(m))
                    store = _open(work)
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
            if first and _conflicts(conn, first):
                return False
            batches = _batches(_chain(first, self._fetch(late), self._tail(indexed, head, day)))
            for batch in batches:
                _apply(conn, batch)
        return True

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

    def _valid(self, path: Path) -> bool:
        """A checkpoint of this store, in this version's format; anything else is removed."""
        if not path.exists():
            return False
        try:
            with sqlite3.connect(path) as db:
                meta = dict(db.execute("SELECT name, value FROM checkpoint_meta").fetchall())
            db.close()
            ok = meta.get("format") == _format() and meta.get("fingerprint") == self._fingerprint(
                int(meta["position"])
            )
        except (sqlite3.Error, KeyError, ValueError):
            ok = False
        if not ok:
            path.unlink(missing_ok=True)
        return ok

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


def _conflicts(conn: Connection, events: Pairs) -> bool:
    """Whether an event (to be applied after the checkpoint's) came before a checkpointed
    one it does not commute with."""
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
    for notification_id, event in events:
        read, written = _keys(event)
        if any(known.get(k, (0, 0))[1] > notification_id for k in read):
            return True
        if any(max(known.get(k, (0, 0))) > notification_id for k in written):
            return True
    return False


# -- files ---------------------------------------------------------------------------------


def _open(path: Path) -> ReadStore:
    store = ReadStore(f"sqlite:///{path}")
    store.create()
    with store.engine.begin() as conn:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                conn.exec_driver_sql(statement)
    return store


def _position(store: ReadStore) -> int:
    with store.engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT value FROM checkpoint_meta WHERE name = 'position'"
        ).scalar_one_or_none()
    return int(found or 0)


def _copy(source: Path, target: Path) -> None:
    """A consistent copy (SQLite's backup), put in place at once."""
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
    src.close()
    dst.close()
    os.replace(partial, target)


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
