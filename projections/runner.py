"""The pull-based runner: reads the notification log from its saved position in batches and
writes the rows and the new position in one read-store transaction (exactly once)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

from domain.engine import Engine
from projections.projector import project
from projections.rows import PROJECTION
from projections.store import LIVE_TABLES, ReadStore
from projections.working_set import WorkingSet

BATCH = 5000


@dataclass(frozen=True)
class Status:
    name: str
    position: int
    head: int

    @property
    def lag(self) -> int:
        return max(self.head - self.position, 0)


def apply_events(conn: Connection, tables: dict[str, Table], events: list[tuple[int, Any]]) -> None:
    """Project (notification id, event) pairs into the tables, inside the caller's
    transaction."""
    ws = WorkingSet(tables)
    ws.load(conn, (e.originator_id.hex for _, e in events))
    for notification_id, event in events:
        project(ws, notification_id, event)
    ws.flush(conn)


def read_position(store: ReadStore, tables: dict[str, Table] = LIVE_TABLES) -> int:
    """The last event the read models (these tables) include: 0 before the first."""
    table = tables["projection_position"]
    with store.engine.connect() as conn:
        found = conn.execute(
            select(table.c.position).where(table.c.name == PROJECTION)
        ).scalar_one_or_none()
    return int(found or 0)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """A bulk pass allocates hundreds of thousands of short-lived, acyclic objects, which
    set off the cyclic garbage collector again and again for nothing (a third of the time,
    measured): collect less often while it runs."""
    before = gc.get_threshold()
    gc.set_threshold(200_000, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)


class Runner:
    """Keeps the read models up with the event store."""

    def __init__(self, engine: Engine, store: ReadStore, batch_size: int = BATCH) -> None:
        self.engine = engine
        self.store = store
        self.batch_size = batch_size
        self._position_rows: set[str] = set()  # tables whose position row this runner made sure of

    def head(self) -> int:
        return self.engine.recorder.max_notification_id() or 0

    def position(self, tables: dict[str, Table] = LIVE_TABLES) -> int:
        return read_position(self.store, tables)

    def status(self) -> Status:
        return Status(PROJECTION, self.position(), self.head())

    def catch_up(
        self,
        until: int | None = None,
        on_progress: Callable[[int], None] = lambda n: None,
        tables: dict[str, Table] = LIVE_TABLES,
        stopping: Callable[[], bool] = lambda: False,
        on_batch: Callable[[int, int], None] = lambda n, position: None,
    ) -> int:
        """Apply every event after the saved position (or up to ``until``); return how many.

        ``stopping`` is asked before each batch: a batch is one transaction, so stopping
        between two leaves the read models whole. ``on_batch(count, position)`` follows
        each batch this runner applied, once it is committed."""
        if tables["projection_position"].name not in self._position_rows:
            self._ensure_position_row(tables)
        with fewer_collections():
            return self._catch_up(until, on_progress, tables, stopping, on_batch)

    def _catch_up(
        self,
        until: int | None,
        on_progress: Callable[[int], None],
        tables: dict[str, Table],
        stopping: Callable[[], bool],
        on_batch: Callable[[int, int], None],
    ) -> int:
        applied = 0
        position = self.position(tables)
        while (until is None or position < until) and not stopping():
            notifications = self.engine.recorder.select_notifications(
                start=position, limit=self.batch_size, inclusive_of_start=False
            )
            if not notifications:
                break
            new_position = notifications[-1].id
            if self._apply(notifications, position, new_position, tables):
                applied += len(notifications)
                on_progress(len(notifications))
                on_batch(len(notifications), new_position)
                position = new_position
                if len(notifications) < self.batch_size:
                    break  # that was every event recorded when we asked: no need to ask again
                continue
            moved = self.position(tables)  # further on: another runner won
            if moved == position:  # nobody moved it: the row itself is gone (tables recreated)
                self._ensure_position_row(tables)
            position = moved
        return applied

    def wait_for(self, notification_id: int | None) -> None:
        """Return once the read models include the event at ``notification_id``."""
        if notification_id is not None and self.position() < notification_id:
            self.catch_up(until=notification_id)

    def rebuild(self, on_progress: Callable[[int], None] = lambda n: None) -> int:
        """Build every read model afresh beside the live ones, then swap them in."""
        copies = self.store.fresh_tables()
        applied = self.catch_up(on_progress=on_progress, tables=copies)
        self.store.swap_in(copies)
        return applied

    def _ensure_position_row(self, tables: dict[str, Table]) -> None:
        """Insert the position row unless it exists: one statement, so two runners starting
        together neither both insert it nor read before they write."""
        table = tables["projection_position"]
        with self.store.engine.begin() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            conn.execute(
                dialect.insert(table)
                .values(name=PROJECTION, position=0)
                .on_conflict_do_nothing(index_elements=["name"])
            )
        self._position_rows.add(table.name)

    def _apply(self, notifications: Any, old: int, new: int, tables: dict[str, Table]) -> bool:
        events = [self.engine.mapper.to_domain_event(n) for n in notifications]
        with self.store.engine.begin() as conn:
            if not self._claim(conn, old, new, tables):
                return False  # another runner applied this batch first
            apply_events(
                conn, tables, [(n.id, e) for n, e in zip(notifications, events, strict=True)]
            )
        return True

    @staticmethod
    def _claim(conn: Connection, old: int, new: int, tables: dict[str, Table]) -> bool:
        """Move the position first: it locks the row, so a rival runner waits, then finds
        the position moved and backs off."""
        table = tables["projection_position"]
        moved = conn.execute(
            update(table)
            .where(table.c.name == PROJECTION, table.c.position == old)
            .values(position=new)
        )
        return moved.rowcount == 1
