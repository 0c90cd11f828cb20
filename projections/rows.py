"""Where the read-side queries get their rows: plain SQL with named parameters (``:name``),
answered by the read store's SQLAlchemy engine, or, on the SQLite file, by a read-only
stdlib connection, so that a command line's read imports no SQLAlchemy at all."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, closing, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

Row = Mapping[str, Any]

POSITION = "SELECT position FROM projection_position WHERE name = :name"
PROJECTION = "read-models"  # the name of the read models' position (the runner's too)


class Rows(Protocol):
    """Answers one SQL query: the rows as column-name mappings. Dates, times and booleans
    come as the driver gives them (text and 0/1 on SQLite); the query shapes read both."""

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]: ...

    def snapshot(self) -> AbstractContextManager[Rows]:
        """Rows that answer several queries from one moment of the read models (one read
        transaction), while another process applies new events."""
        ...


def sqlite_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Parameters as SQLAlchemy stores them in SQLite: dates ``YYYY-MM-DD``, times in UTC
    ``YYYY-MM-DD HH:MM:SS.ffffff`` (so text comparisons order as the values do)."""
    adapted: dict[str, Any] = {}
    for name, value in (params or {}).items():
        if isinstance(value, datetime):
            if value.utcoffset() is not None:
                value = value.astimezone(UTC)
            value = value.strftime("%Y-%m-%d %H:%M:%S.%f")
        elif isinstance(value, date):
            value = value.isoformat()
        adapted[name] = value
    return adapted


def day(value: date | str | None) -> date | None:
    """A date column's value: a date (PostgreSQL) or its ISO text (SQLite)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def moment(value: datetime | str) -> datetime:
    """A time column's value in UTC, as SQLModel's UTCDateTime reads it: SQLite keeps UTC
    without an offset (as text), PostgreSQL gives it in the session's zone."""
    found = datetime.fromisoformat(value) if isinstance(value, str) else value
    if found.utcoffset() is None:
        return found.replace(tzinfo=UTC)
    return found.astimezone(UTC)


def listed(value: str | list[Any] | dict[str, Any]) -> Any:
    """A JSON column's value, decoded (it is stored as text)."""
    return json.loads(value) if isinstance(value, str) else value


def placeholders(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """``:name_0, :name_1, ...`` and their parameters, for ``IN (...)`` (both drivers)."""
    params = {f"{name}_{n}": v for n, v in enumerate(values)}
    return ", ".join(f":{key}" for key in params) or "NULL", params


class SQLiteRows:
    """The read models' SQLite file, opened read-only with the standard library: for a
    process that only reads (a command line), not the SQLAlchemy engine the runner writes
    with. Opens nothing until the first query."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            self._connection = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
        return self._connection

    @contextmanager
    def snapshot(self) -> Iterator[SQLiteRows]:
        connection = self._connect()
        if connection.in_transaction:  # inside another snapshot: the same moment
            yield self
            return
        connection.execute("BEGIN")
        try:
            yield self
        finally:
            connection.execute("ROLLBACK")  # read only: nothing to keep

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        cursor = self._connect().execute(sql, sqlite_params(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, found, strict=True)) for found in cursor.fetchall()]

    def position(self) -> int | None:
        """The read models' position, or None if they were never written by this version
        of the tables (see ``schema_mark``)."""
        try:
            (mark,) = self._connect().execute("PRAGMA user_version").fetchone()
            if mark != schema_mark() or not mark:
                return None
            found = self.rows(POSITION, {"name": PROJECTION})
        except sqlite3.OperationalError:  # no such table, or no file: never created
            return None
        return int(found[0]["position"]) if found else 0

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def events_head(path: Path) -> int | None:
    """The last notification id in an SQLite event store (the library's ``MAX(rowid)`` of
    ``stored_events``), or None if there is no store to read."""
    if not path.exists():
        return None
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True, timeout=30)) as connection:
            (head,) = connection.execute("SELECT MAX(rowid) FROM stored_events").fetchone()
    except sqlite3.OperationalError:  # no table yet
        return None
    return int(head or 0)


def schema_mark() -> int:
    """A mark of this version's read-model tables (a checksum of projections/tables.py,
    read as a file, not imported): the read store writes it into the SQLite file when it
    has made its tables current (``PRAGMA user_version``), and a lean reader trusts only a
    file that carries it. 0 when the module's source cannot be found."""
    import zlib
    from importlib.util import find_spec

    spec = find_spec("projections.tables")
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return 0
    return zlib.crc32(Path(spec.origin).read_bytes()) & 0x7FFFFFFF or 1
