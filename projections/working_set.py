"""The rows one batch of events touches: loaded once, changed in memory, written back once."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite

Row = dict[str, Any]
Key = tuple[Any, ...]

JSON_COLUMNS = {
    "programmes": ("phases",),
    "initiatives": ("options", "chosen_options", "members", "respondents"),
    "preconditions": ("evidence",),
    "decisions": ("evidence", "details"),
}


def _decode(table: str, row: Row) -> Row:
    for column in JSON_COLUMNS.get(table, ()):
        row[column] = json.loads(row[column])
    return row


def _encode(table: str, row: Row) -> Row:
    columns = JSON_COLUMNS.get(table, ())
    if not columns:
        return row
    encoded = dict(row)
    for column in columns:
        encoded[column] = json.dumps(encoded[column], default=str, ensure_ascii=False)
    return encoded


class WorkingSet:
    """Rows keyed by primary key per table, with the changed ones remembered."""

    def __init__(self, tables: dict[str, Table]) -> None:
        self.tables = tables
        self.rows: dict[str, dict[Key, Row]] = defaultdict(dict)
        self.dirty: dict[str, set[Key]] = defaultdict(set)
        self.appended: dict[str, list[Row]] = defaultdict(list)
        self.initiative_by_aggregate: dict[str, str] = {}

    def key_of(self, table: str, row: Row) -> Key:
        return tuple(row[c.name] for c in self.tables[table].primary_key.columns)

    def load(self, conn: Connection, aggregate_ids: Iterable[str]) -> None:
        """Load the rows of the aggregates in this batch, and the small programme tables."""
        ids = list(set(aggregate_ids))
        for name in ("programmes", "streams", "targets", "mandates"):
            self._load_rows(conn, name, select(self.tables[name]))
        for name in ("initiatives", "preconditions"):
            table = self.tables[name]
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                self._load_rows(conn, name, select(table).where(table.c.aggregate_id.in_(chunk)))
        for row in self.rows["initiatives"].values():
            self.initiative_by_aggregate[row["aggregate_id"]] = row["initiative_id"]

    def _load_rows(self, conn: Connection, name: str, query: Any) -> None:
        for found in conn.execute(query).mappings():
            row = _decode(name, dict(found))
            self.rows[name][self.key_of(name, row)] = row

    def get(self, table: str, *key: Any) -> Row | None:
        return self.rows[table].get(key)

    def put(self, table: str, row: Row) -> Row:
        key = self.key_of(table, row)
        self.rows[table][key] = row
        self.dirty[table].add(key)
        return row

    def touch(self, table: str, row: Row) -> None:
        self.dirty[table].add(self.key_of(table, row))

    def append(self, table: str, row: Row) -> None:
        """A row that is only ever inserted (the decision log)."""
        self.appended[table].append(row)

    def where(self, table: str, **match: Any) -> list[Row]:
        return [
            row for row in self.rows[table].values() if all(row[k] == v for k, v in match.items())
        ]

    def flush(self, conn: Connection) -> None:
        for name, keys in self.dirty.items():
            if keys:
                rows = [_encode(name, self.rows[name][k]) for k in keys]
                conn.execute(upsert(conn, self.tables[name]), rows)
        for name, rows in self.appended.items():
            if rows:
                conn.execute(insert(self.tables[name]), [_encode(name, r) for r in rows])


def upsert(conn: Connection, table: Table) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    keys = [c.name for c in table.primary_key.columns]
    return statement.on_conflict_do_update(
        index_elements=keys,
        set_={c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys},
    )
