"""The event store's recorders as Kringloop opens them: hash-chained (adapters.audit.chain),
patient with a lock another process holds, and plain about a full disk or a lost server.

A write that fails here was rolled back whole (one transaction per save), so it can be
tried again; and a command applied twice is recognised by its id, so even a write whose
commit landed but whose answer was lost does no harm when repeated.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.utils import retry

from adapters.audit.chain import (
    ChainedPostgresRecorder,
    ChainedSQLiteRecorder,
    ChainRow,
    StoredRow,
)
from adapters.failures import StorageError, describe_failure, is_locked
from adapters.logs import get_logger

log = get_logger("kringloop.store")
FIRST_WAIT = 0.1  # seconds before the first retry; doubles up to MAX_WAIT
MAX_WAIT = 2.0


class SQLiteEvents(ChainedSQLiteRecorder):
    """SQLite: a write lock held by another process is waited for (SQLite's own busy handler
    for a second per attempt, then our back-off) up to ``lock_timeout`` seconds in all."""

    lock_timeout: float = 30.0  # open_engine sets it from the settings

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


class PostgresEvents(ChainedPostgresRecorder):
    """PostgreSQL: the library already retries its own reads and writes on a lost connection
    (its pool opens a new one); the audit's pages get the same, and what still fails after
    that is named, not thrown as a driver error."""

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def stored_page(self, after: tuple[str, int], limit: int) -> list[StoredRow]:
        return super().stored_page(after, limit)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def chain_page(self, after: tuple[str, int], limit: int) -> list[ChainRow]:
        return super().chain_page(after, limit)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        try:
            return super().insert_events(stored_events, **kwargs)
        except OperationalError as error:
            raise describe_failure(error, "the event store (postgresql)") from None
