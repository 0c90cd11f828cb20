"""Opens the engine on the store the settings pick: an SQLite file, or PostgreSQL."""

from __future__ import annotations

import errno
import math
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from adapters.failures import StorageError, describe_failure, is_locked
from adapters.settings import Settings
from domain.engine import Engine

if TYPE_CHECKING:  # the read side (SQLAlchemy) is imported when first opened, not at start
    from projections.runner import Runner
    from projections.store import ReadStore


def engine_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing environment for these settings."""
    env = {"AGGREGATE_CACHE_MAXSIZE": str(settings.cache_size)} if settings.cache_size else {}
    if settings.database_url:
        env.update(postgres_env(settings.database_url, settings.database_schema))
    else:
        env.update(
            PERSISTENCE_MODULE="eventsourcing.sqlite",
            SQLITE_DBNAME=str(settings.events_path),
            # SQLite's busy handler waits this long per attempt; adapters.recorders retries a
            # locked write (and says so in the log) up to settings.lock_timeout in all
            SQLITE_LOCK_TIMEOUT=str(max(1, min(5, math.ceil(settings.lock_timeout / 4)))),
        )
    return chained(env)


RECORDER_TOPICS = {  # named, not imported: the library resolves them when it opens the store
    "eventsourcing.sqlite": "adapters.recorders:SQLiteEvents",
    "eventsourcing.postgres": "adapters.recorders.postgres:PostgresEvents",
}


def chained(env: dict[str, str]) -> dict[str, str]:
    """Every stored event is hash-chained by the recorder (see adapters.audit.chain)."""
    topic = RECORDER_TOPICS.get(env.get("PERSISTENCE_MODULE", ""))
    return {**env, "APPLICATION_RECORDER_TOPIC": topic} if topic else env


def postgres_env(url: str, schema: str | None) -> dict[str, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise StorageError(
            f"database url must start with postgresql:// (got {parts.scheme or 'no scheme'}://)"
        )
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_POOL_SIZE": "5",
    }
    if schema:
        env["POSTGRES_SCHEMA"] = schema
    return env


SCHEMA_LOCK = 7_405_184_236_501  # pg_advisory_lock key: Kringloop's table creation


@contextmanager
def creating_tables(settings: Settings) -> Iterator[None]:
    """One process at a time creates tables on PostgreSQL: concurrent CREATE ... IF NOT
    EXISTS of the same table or type fails there (workers, API and runner start together)."""
    if not settings.database_url:
        yield
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(settings.database_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            if settings.database_schema:  # the library creates tables, not their schema
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                        sql.Identifier(settings.database_schema)
                    )
                )
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


PRIVATE_UMASK = 0o077  # files 0600, folders 0700: the data is the owner's only


def private_files() -> None:
    """From now on this process creates files only its owner may read: the stores, SQLite's
    -wal and -shm, keys, seals, backups, exports and reports. Set once per front door
    (`Stores`), before anything is written."""
    os.umask(PRIVATE_UMASK)


def private_home(settings: Settings) -> None:
    """Create the data folder if needed, 0700 even if it existed looser."""
    private_files()
    if settings.database_url and not settings.home.exists():
        return  # the stores live in PostgreSQL; keys and seals create the folder later
    try:
        settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        settings.home.chmod(0o700)
    except OSError as error:
        raise StorageError(f"cannot create data folder {settings.home}: {error}") from None


def open_read_store(settings: Settings) -> ReadStore:
    """Open the read store and create its tables if they do not exist yet."""
    from projections.store import ReadStore

    private_home(settings)
    try:
        with creating_tables(settings):
            store = ReadStore(
                settings.read_store_url, settings.read_schema if settings.database_url else None
            )
            store.create()
    except Exception as error:  # the driver's own connection errors
        raise StorageError(f"cannot open the read store: {error}") from None
    return store


def open_engine(settings: Settings) -> Engine:
    """Open the engine, creating the data folder for the embedded store if needed."""
    private_home(settings)
    try:
        with creating_tables(settings):
            engine = Engine(env=engine_env(settings))
    except Exception as error:  # the library raises driver-specific errors on connect
        if not settings.database_url and _out_of_space(settings.home):
            # SQLite says "disk I/O error" when it cannot grow its shared-memory file
            error = OSError(errno.ENOSPC, f"{error}: no space left on device")
            raise describe_failure(error, f"the event store {settings.events_path}") from None
        raise StorageError(
            f"cannot open the event store ({settings.storage_label}): {error}"
        ) from None
    if hasattr(engine.recorder, "lock_timeout"):  # adapters.recorders.SQLiteEvents
        engine.recorder.lock_timeout = settings.lock_timeout
    from adapters.keyring import keyring_for

    engine.keyring = keyring_for(settings)  # personal data's keys, outside the event store
    # named, not imported: a destruction list is worked out again from the store, whatever
    # the door (CLI, apply, API), when it is approved
    engine.command_checks["approve-destruction"] = "adapters.retention:approval_check"
    return engine


def vacuum_sqlite(path: Path | str, patience_s: float = 120.0) -> None:
    """Leave nothing deleted in an SQLite file's free pages or its log (erasure, destruction):
    VACUUM with secure delete, then empty the write-ahead log. The file may be in use (the
    API's pages write sessions to the read store): it waits for the write lock, and tries
    again for a while if another writer keeps it."""
    deadline = time.monotonic() + patience_s
    while True:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA secure_delete=ON")
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the log's copies of old pages
            return
        except sqlite3.OperationalError as error:
            if not is_locked(error) or time.monotonic() > deadline:
                raise
        finally:
            conn.close()
        time.sleep(0.5)


def _out_of_space(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < 64 * 1024
    except OSError:
        return False


@dataclass
class Stores:
    """One process's engine and read store: opened on first use (never at import), from
    one place for every front door, and closed once."""

    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)
    _reads: ReadStore | None = field(default=None, repr=False)
    _runner: Runner | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        private_files()  # before the first file: session key, stores, exports, backups

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = open_engine(self.settings)
        return self._engine

    @property
    def read_store(self) -> ReadStore:
        if self._reads is None:
            with self._lock:
                if self._reads is None:
                    self._reads = self.open_reads()
        return self._reads

    def open_reads(self) -> ReadStore:
        return open_read_store(self.settings)

    @property
    def runner(self) -> Runner:
        """The one runner of these stores (it holds nothing a second thread could spoil:
        each catch-up claims its batches in the read store)."""
        if self._runner is None:
            from projections.runner import Runner

            self._runner = Runner(self.engine, self.read_store)
        return self._runner

    def fresh_reads(self) -> ReadStore:
        """The read store, caught up with every event recorded so far."""
        runner = self.runner
        if runner.position() < runner.head():
            runner.catch_up()
        return self.read_store

    def close(self) -> None:
        self._runner = None
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        if self._reads is not None:
            self._reads.close()
            self._reads = None
