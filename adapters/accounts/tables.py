"""Creating the accounts' tables when several processes may do it at the same moment (the
workers of `kringloop api --workers N` each open the read store).

The usual way (look, then create what is missing) loses that race: PostgreSQL lets one
``CREATE TABLE`` of a name through and fails the other, and SQLite refuses at once a
transaction that looked first and then wants to write while another holds the write lock.
The loser then creates ``IF NOT EXISTS`` with nothing read first, so it waits for the
winner's lock instead, and finds the tables made."""

from __future__ import annotations

from sqlalchemy import Engine, Table
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import SQLModel

ATTEMPTS = 3
RACE_LOST = (IntegrityError, ProgrammingError, OperationalError)


def create_tables(engine: Engine, *tables: Table) -> None:
    try:
        SQLModel.metadata.create_all(engine, tables=list(tables))
    except RACE_LOST:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                _create_if_not_exists(engine, tables)
                return
            except RACE_LOST:
                if attempt == ATTEMPTS:
                    raise


def _create_if_not_exists(engine: Engine, tables: tuple[Table, ...]) -> None:
    with engine.begin() as db:
        for table in tables:
            db.execute(CreateTable(table, if_not_exists=True))
            for index in table.indexes:
                db.execute(CreateIndex(index, if_not_exists=True))
