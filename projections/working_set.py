"""The rows one batch of events touches: loaded once, changed in memory, written back once."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Date, DateTime, Table, select

Row = dict[str, Any]
Key = tuple[Any, ...]
Convert = Callable[[Any], Any]

JSON_COLUMNS = {
    "programmes": ("phases", "scale_up_criteria"),
    "initiatives": ("options", "chosen_options", "members", "respondents"),
    "preconditions": ("evidence",),
    "decisions": ("evidence", "details"),
    "commitments": ("path", "categories"),
    "communities": ("members", "member_kinds"),
}
OWN_ROWS = ("initiatives", "preconditions", "commitments", "communities")  # by aggregate id


class WorkingSet:
    """Rows keyed by primary key per table, with the changed ones remembered."""

    def __init__(self, tables: dict[str, Table]) -> None:
        self.tables = tables
        self.rows: dict[str, dict[Key, Row]] = defaultdict(dict)
        self.dirty: dict[str, dict[int, Row]] = defaultdict(dict)  # by identity: no key work
        self.appended: dict[str, list[Row]] = defaultdict(list)
        self.initiative_by_aggregate: dict[str, str] = {}
        self.programme_by_aggregate: dict[str, Row] = {}
        self.preconditions_by_initiative: dict[str, list[Row]] = defaultdict(list)
        self.procurement_by_aggregate: dict[str, Row] = {}
        self._keys = {n: [c.name for c in t.primary_key.columns] for n, t in tables.items()}

    def key_of(self, table: str, row: Row) -> Key:
        return tuple(row[c] for c in self._keys[table])

    def load(self, conn: Connection, aggregate_ids: Iterable[str]) -> None:
        """Load the rows of the aggregates in this batch, and the small programme tables."""
        ids = list(set(aggregate_ids))
        for name in ("programmes", "streams", "targets", "mandates"):
            self._load_rows(conn, name, select(self.tables[name]))
        for name in OWN_ROWS:
            table = self.tables[name]
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                self._load_rows(conn, name, select(table).where(table.c.aggregate_id.in_(chunk)))

    def _load_rows(self, conn: Connection, name: str, query: Any) -> None:
        json_columns = JSON_COLUMNS.get(name, ())
        for found in conn.execute(query).mappings():
            row = dict(found)
            for column in json_columns:
                row[column] = json.loads(row[column])
            self._remember(name, row)

    def _remember(self, table: str, row: Row) -> None:
        self.rows[table][self.key_of(table, row)] = row
        if table == "initiatives":
            self.initiative_by_aggregate[row["aggregate_id"]] = row["initiative_id"]
        elif table == "programmes":
            self.programme_by_aggregate[row["aggregate_id"]] = row
        elif table == "preconditions":
            self.preconditions_by_initiative[row["initiative_id"]].append(row)
        elif table in ("commitments", "communities"):
            self.procurement_by_aggregate[row["aggregate_id"]] = row

    def get(self, table: str, *key: Any) -> Row | None:
        return self.rows[table].get(key)

    def put(self, table: str, row: Row) -> Row:
        """A new row (or one replaced whole)."""
        key = self.key_of(table, row)
        replaced = self.rows[table].get(key)
        if replaced is not None and table == "preconditions":
            self.preconditions_by_initiative[row["initiative_id"]].remove(replaced)
        if replaced is not None:
            self.dirty[table].pop(id(replaced), None)
        self._remember(table, row)
        self.dirty[table][id(row)] = row
        return row

    def touch(self, table: str, row: Row) -> None:
        self.dirty[table][id(row)] = row

    def append(self, table: str, row: Row) -> None:
        """A row that is only ever inserted (the decision log)."""
        self.appended[table].append(row)

    def where(self, table: str, **match: Any) -> list[Row]:
        """Rows of a small table matching some columns."""
        return [
            row for row in self.rows[table].values() if all(row[k] == v for k, v in match.items())
        ]

    def flush(self, conn: Connection) -> None:
        """Write the changed rows (upserts) and the appended rows, in bulk."""
        for name, dirty in self.dirty.items():
            if dirty:
                self._write(conn, name, list(dirty.values()), upsert=True)
        for name, rows in self.appended.items():
            if rows:
                self._write(conn, name, rows, upsert=False)

    def _write(self, conn: Connection, name: str, rows: list[Row], upsert: bool) -> None:
        statement, values_of, converters = _statement(conn, self.tables[name], upsert)
        params = []
        for row in rows:
            values = list(values_of(row))
            for i, convert in converters:
                values[i] = convert(values[i])
            params.append(tuple(values))
        conn.exec_driver_sql(statement, params)  # one executemany per table


Statement = tuple[str, Callable[[Row], tuple[Any, ...]], list[tuple[int, Convert]]]
_STATEMENTS: dict[tuple[str, str, bool], Statement] = {}


def _statement(conn: Connection, table: Table, upsert: bool) -> Statement:
    """SQL and value converters for bulk writes, built once per table and dialect; the
    ON CONFLICT form is the same on SQLite and PostgreSQL."""
    dialect = conn.dialect.name
    cache_key = (dialect, table.name, upsert)
    if cache_key not in _STATEMENTS:
        columns = [c.name for c in table.columns]
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        quoted = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join([mark] * len(columns))
        sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})'  # noqa: S608 (names from our own tables; values are bound)
        if upsert:
            keys = [c.name for c in table.primary_key.columns]
            updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c not in keys)
            sql += f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
        json_columns = JSON_COLUMNS.get(_base_name(table.name), ())
        converters = [
            (i, convert)
            for i, c in enumerate(columns)
            if (convert := _converter(dialect, table.c[c].type, c in json_columns)) is not _same
        ]
        _STATEMENTS[cache_key] = (sql, itemgetter(*columns), converters)
    return _STATEMENTS[cache_key]


def _base_name(name: str) -> str:
    return name.split("__rebuild_")[0]


def _same(value: Any) -> Any:
    return value


_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)  # one encoder, not one per value


def _json(value: Any) -> str:
    return _ENCODER.encode(value)


def _utc_naive_text(value: datetime | None) -> str | None:
    """SQLite has no time zones: timestamps are stored as UTC text, as SQLModel does."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _converter(dialect: str, column_type: Any, is_json: bool) -> Convert:
    if is_json:
        return _json
    column_type = getattr(column_type, "impl", column_type)  # SQLModel wraps DateTime
    if isinstance(column_type, DateTime):
        return _utc_naive_text if dialect == "sqlite" else _utc
    if isinstance(column_type, Date) and dialect == "sqlite":
        return lambda v: None if v is None else date.isoformat(v)
    return _same
