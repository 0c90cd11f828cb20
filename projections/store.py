"""The read store: a SQLAlchemy engine on an SQLite file or a PostgreSQL schema, its live
tables, and fresh copies of them for a rebuild that swaps in when complete."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, event, inspect, text
from sqlmodel import SQLModel

from projections.rows import Row, schema_mark, sqlite_params
from projections.tables import READ_MODELS

LIVE_TABLES: dict[str, Table] = {m.__table__.name: m.__table__ for m in READ_MODELS}  # type: ignore[attr-defined]
REBUILD_MARK = "__rebuild_"


class ReadStore:
    """Where the read models live. Opens no connection until used: on PostgreSQL, its schema
    is created (if missing) by the first connection."""

    def __init__(self, url: str, schema: str | None = None) -> None:
        self.url = url
        self.schema = schema
        self.engine: Engine = _connect(url, schema)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def create(self) -> None:
        """Create the live tables that do not exist yet. Tables written by an older version
        (a column missing) are dropped with the read position, so the runner rebuilds every
        read model from the event store on its next catch-up."""
        outdated = self.outdated_tables()
        if outdated:
            with self.engine.begin() as conn:
                for name in LIVE_TABLES:
                    conn.execute(text(f'DROP TABLE IF EXISTS "{name}"'))
        SQLModel.metadata.create_all(self.engine, tables=list(LIVE_TABLES.values()))
        if self.dialect == "sqlite":  # current now: a lean reader may trust the file
            mark = schema_mark()
            with self.engine.connect() as conn:
                marked = conn.exec_driver_sql("PRAGMA user_version").scalar() == mark
            if not marked:
                with self.engine.begin() as conn:
                    conn.exec_driver_sql(f"PRAGMA user_version = {mark}")

    def outdated_tables(self) -> list[str]:
        """Live tables that lack a column this version of the read models writes."""
        inspector = inspect(self.engine)
        existing = set(inspector.get_table_names())
        return [
            name
            for name, table in LIVE_TABLES.items()
            if name in existing
            and {c.name for c in table.columns} - {c["name"] for c in inspector.get_columns(name)}
        ]

    def fresh_tables(self) -> dict[str, Table]:
        """Empty copies of every read-model table, for a rebuild; leftovers of a killed
        rebuild are dropped first."""
        self.drop_leftovers()
        generation = f"{int(time.time() * 1000):x}"
        metadata = MetaData()
        copies = {}
        for name, table in LIVE_TABLES.items():
            copy = table.to_metadata(metadata, name=f"{name}{REBUILD_MARK}{generation}")
            for index in copy.indexes:
                # index names are unique per schema and outlive the rename: name them anew
                columns = "_".join(c.name for c in index.columns)
                index.name = f"ix_{name}_{columns}_{generation}"[:63]  # type: ignore[assignment]
            copies[name] = copy
        metadata.create_all(self.engine)
        return copies

    def drop_leftovers(self) -> None:
        leftovers = [n for n in inspect(self.engine).get_table_names() if REBUILD_MARK in n]
        with self.engine.begin() as conn:
            for name in leftovers:
                conn.execute(text(f'DROP TABLE IF EXISTS "{name}"'))

    def swap_in(self, copies: dict[str, Table]) -> None:
        """Replace the live tables by the rebuilt copies in one transaction."""
        with self.engine.begin() as conn:
            for name, copy in copies.items():
                conn.execute(text(f'DROP TABLE IF EXISTS "{name}"'))
                conn.execute(text(f'ALTER TABLE "{copy.name}" RENAME TO "{name}"'))

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """One plain-SQL query's rows (projections.rows.Rows), on this store's engine."""
        with self.snapshot() as one:
            return one.rows(sql, params)

    @contextmanager
    def snapshot(self) -> Iterator[_Snapshot]:
        """Several queries in one read transaction (projections.rows.Rows)."""
        with self.engine.connect() as conn:
            yield _Snapshot(conn, self.dialect)

    def close(self) -> None:
        self.engine.dispose()


class _Snapshot:
    """The read store's rows within one read transaction (rolled back when it ends)."""

    def __init__(self, conn: Connection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        if self.dialect == "sqlite":
            params = sqlite_params(params)
        return [dict(r._mapping) for r in self.conn.execute(text(sql), dict(params or {}))]

    def snapshot(self) -> nullcontext[_Snapshot]:
        return nullcontext(self)


def _connect(url: str, schema: str | None) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    connect_args: dict[str, Any] = {"connect_timeout": 10}
    if schema:
        connect_args["options"] = f"-csearch_path={schema}"
    engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
    if schema:
        event.listen(engine, "connect", _schema_creator(schema))
    return engine


def _schema_creator(schema: str) -> Callable[[Any, Any], None]:
    """A connect hook that creates the schema on the engine's first connection, not at
    construction (nothing connects before the store is used), and once: concurrent
    ``CREATE SCHEMA IF NOT EXISTS`` can collide in PostgreSQL's catalogue."""
    lock = threading.Lock()
    created = False

    def create(dbapi_connection: Any, _: Any) -> None:
        nonlocal created
        with lock:
            if created:
                return
            cursor = dbapi_connection.cursor()
            cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            cursor.close()
            dbapi_connection.commit()
            created = True

    return create


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy issues BEGIN itself, see below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # pysqlite's own transaction handling is off (see above); a runner's write transaction
    # starts with its position update, so it takes the write lock before reading anything.
    conn.exec_driver_sql("BEGIN")
