"""The event store's recorders as Kringloop opens them: hash-chained (adapters.audit.chain),
patient with a lock another process holds, and plain about a full disk or a lost server.

A write that fails here was rolled back whole (one transaction per save), so it can be
tried again; and a command applied twice is recognised by its id, so even a write whose
commit landed but whose answer was lost does no harm when repeated: each save also writes,
in its transaction, which command produced which version of which record (the command
table, ``kringloop_commands``, see domain.applied), and refuses a command id already
applied to that record.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import OperationalError, StoredEvent

from adapters.audit.chain import ChainedSQLiteRecorder
from adapters.failures import StorageError, describe_failure, is_locked
from adapters.logs import get_logger
from domain.applied import Applied, CommandRow
from domain.notices import Notice, Queued

log = get_logger("kringloop.store")
FIRST_WAIT = 0.1  # seconds before the first retry; doubles up to MAX_WAIT
MAX_WAIT = 2.0
COMMAND_TABLE = "kringloop_commands"
OUTBOX_TABLE = "kringloop_outbox"  # domain.notices: written with the decisions that cause them
CHUNK = 500  # command ids per look-up


class SQLiteEvents(ChainedSQLiteRecorder):
    """SQLite: a write lock held by another process is waited for (SQLite's own busy handler
    for a second per attempt, then our back-off) up to ``lock_timeout`` seconds in all."""

    lock_timeout: float = 30.0  # open_engine sets it from the settings

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {COMMAND_TABLE} (command_id TEXT, originator_id TEXT, "
            "version INTEGER, digest TEXT, PRIMARY KEY (command_id, originator_id)) "
            "WITHOUT ROWID",
            f"CREATE TABLE IF NOT EXISTS {OUTBOX_TABLE} (sequence INTEGER PRIMARY KEY "
            "AUTOINCREMENT, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, record TEXT NOT NULL, "
            "version INTEGER NOT NULL, data TEXT NOT NULL, queued_at TEXT NOT NULL "
            "DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))",
        ]

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        returning = super()._insert_events(c, stored_events, **kwargs)
        rows: Sequence[CommandRow] = kwargs.get("commands", ())
        c.executemany(f"INSERT INTO {COMMAND_TABLE} VALUES (?, ?, ?, ?)", _rows(rows))  # noqa: S608
        _queue(c, kwargs.get("notices", ()))
        return returning

    def queue_notices(self, notices: Sequence[Notice]) -> None:
        with self.datastore.transaction(commit=True) as c:
            _queue(c, notices)

    def notices_after(self, sequence: int, limit: int) -> list[Queued]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT sequence, key, kind, record, version, data, queued_at FROM {OUTBOX_TABLE} "  # noqa: S608
                "WHERE sequence > ? ORDER BY sequence LIMIT ?",
                (sequence, limit),
            )
            return [queued(*row) for row in c.fetchall()]

    def applied_command(self, originator_id: UUID, command_id: str) -> Applied | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT version, digest FROM {COMMAND_TABLE} "  # noqa: S608
                "WHERE command_id=? AND originator_id=?",
                (command_id, originator_id.hex),
            )
            found = c.fetchone()
        return None if found is None else Applied(int(found[0]), str(found[1]))

    def applied_commands(
        self, keys: Collection[tuple[UUID, str]]
    ) -> dict[tuple[UUID, str], Applied]:
        wanted = sorted({command_id for _, command_id in keys})
        found: dict[tuple[UUID, str], Applied] = {}
        with self.datastore.transaction(commit=False) as c:
            for i in range(0, len(wanted), CHUNK):
                chunk = wanted[i : i + CHUNK]
                c.execute(
                    f"SELECT originator_id, command_id, version, digest FROM {COMMAND_TABLE} "  # noqa: S608
                    f"WHERE command_id IN ({', '.join('?' * len(chunk))})",
                    chunk,
                )
                for row in c.fetchall():
                    found[(UUID(row[0]), row[1])] = Applied(int(row[2]), str(row[3]))
        return {key: found[key] for key in keys if key in found}

    def has_commands(self) -> bool:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT 1 FROM {COMMAND_TABLE} LIMIT 1")  # noqa: S608
            return c.fetchone() is not None

    def insert_commands(self, rows: Sequence[CommandRow]) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.executemany(
                f"INSERT OR IGNORE INTO {COMMAND_TABLE} VALUES (?, ?, ?, ?)",  # noqa: S608
                _rows(rows),
            )

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        deadline = time.monotonic() + self.lock_timeout
        wait = FIRST_WAIT
        while True:
            try:
                return super().insert_events(stored_events, **kwargs)
            except OperationalError as error:
                left = deadline - time.monotonic()
                if not is_locked(error) or left <= 0:
                    raise self._failure(error) from None
                log.warning(
                    "event store locked by another process; waiting",
                    store=self.datastore.pool.db_name,
                    retry_in_s=round(min(wait, left), 2),
                    gives_up_in_s=round(left, 1),
                )
                time.sleep(min(wait, left))
                wait = min(wait * 2, MAX_WAIT)

    def _failure(self, error: Exception) -> StorageError:
        store = f"the event store {self.datastore.pool.db_name}"
        return describe_failure(error, store, waited=self.lock_timeout)


def _queue(c: Any, notices: Sequence[Notice]) -> None:
    c.executemany(
        f"INSERT OR IGNORE INTO {OUTBOX_TABLE} (key, kind, record, version, data) "  # noqa: S608
        "VALUES (?, ?, ?, ?, ?)",
        [(n.key, n.kind, n.record, n.version, n.data_json()) for n in notices],
    )


def queued(
    sequence: int, key: str, kind: str, record: str, version: int, data: str, queued_at: Any
) -> Queued:
    """A notice as read back from an outbox table."""
    at = queued_at.isoformat() if hasattr(queued_at, "isoformat") else str(queued_at)
    return Queued(key, kind, record, int(version), json.loads(data), int(sequence), at)


def _rows(rows: Sequence[CommandRow]) -> list[tuple[str, str, int, str]]:
    return [(r.command_id, r.originator_id.hex, r.version, r.digest) for r in rows]
