"""The PostgreSQL event store's recorder (see adapters.recorders): a module of its own, named
by its topic in adapters.store, so that an SQLite store never imports psycopg."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

from adapters.audit.chain import ChainRow, StoredRow
from adapters.audit.chain_postgres import ChainedPostgresRecorder
from adapters.failures import describe_failure
from adapters.recorders import COMMAND_TABLE, OUTBOX_TABLE, queued
from domain.applied import Applied, CommandRow
from domain.notices import Notice, Queued


class PostgresEvents(ChainedPostgresRecorder):
    """PostgreSQL: the library already retries its own reads and writes on a lost connection
    (its pool opens a new one); the audit's pages get the same, and what still fails after
    that is named, not thrown as a driver error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.command_table = Identifier(self.datastore.schema), Identifier(COMMAND_TABLE)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {}.{} (command_id text NOT NULL, "
                "originator_id uuid NOT NULL, version bigint NOT NULL, digest text NOT NULL, "
                "PRIMARY KEY (command_id, originator_id))"
            ).format(*self.command_table)
        )
        self.outbox_table = Identifier(self.datastore.schema), Identifier(OUTBOX_TABLE)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {}.{} (sequence bigserial PRIMARY KEY, "
                "key text NOT NULL UNIQUE, kind text NOT NULL, record text NOT NULL, "
                "version bigint NOT NULL, data text NOT NULL, "
                "queued_at timestamptz NOT NULL DEFAULT now())"
            ).format(*self.outbox_table)
        )

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The command rows go in after the chain's, under the same table lock."""
        notification_ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        rows: Sequence[CommandRow] = kwargs.get("commands", ())
        if rows:
            curs.executemany(
                SQL("INSERT INTO {}.{} VALUES (%s, %s, %s, %s)").format(*self.command_table),
                [(r.command_id, r.originator_id, r.version, r.digest) for r in rows],
            )
        self._queue(curs, kwargs.get("notices", ()))
        return notification_ids

    def _queue(self, curs: Any, notices: Sequence[Notice]) -> None:
        if notices:
            curs.executemany(
                SQL(
                    "INSERT INTO {}.{} (key, kind, record, version, data) "
                    "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING"
                ).format(*self.outbox_table),
                [(n.key, n.kind, n.record, n.version, n.data_json()) for n in notices],
            )

    def queue_notices(self, notices: Sequence[Notice]) -> None:
        with self.datastore.transaction(commit=True) as curs:
            self._queue(curs, notices)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def notices_after(self, sequence: int, limit: int) -> list[Queued]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL(
                    "SELECT sequence, key, kind, record, version, data, queued_at FROM {}.{} "
                    "WHERE sequence > %s ORDER BY sequence LIMIT %s"
                ).format(*self.outbox_table),
                (sequence, limit),
            )
            return [
                queued(
                    r["sequence"],
                    r["key"],
                    r["kind"],
                    r["record"],
                    r["version"],
                    r["data"],
                    r["queued_at"],
                )
                for r in curs.fetchall()
            ]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def applied_command(self, originator_id: UUID, command_id: str) -> Applied | None:
        # one statement on an autocommit connection, as the library reads events: a
        # transaction around it would cost two more round trips on every command
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT version, digest FROM {}.{} WHERE command_id=%s AND originator_id=%s"
                ).format(*self.command_table),
                (command_id, originator_id),
                prepare=True,
            )
            found = curs.fetchone()
        return None if found is None else Applied(int(found["version"]), str(found["digest"]))

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def applied_commands(
        self, keys: Collection[tuple[UUID, str]]
    ) -> dict[tuple[UUID, str], Applied]:
        if not keys:
            return {}
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT originator_id, command_id, version, digest FROM {}.{} "
                    "WHERE command_id = ANY(%s)"
                ).format(*self.command_table),
                (sorted({command_id for _, command_id in keys}),),
            )
            found = {
                (r["originator_id"], r["command_id"]): Applied(int(r["version"]), str(r["digest"]))
                for r in curs.fetchall()
            }
        return {key: found[key] for key in keys if key in found}

    def has_commands(self) -> bool:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT 1 FROM {}.{} LIMIT 1").format(*self.command_table))
            return curs.fetchone() is not None

    def insert_commands(self, rows: Sequence[CommandRow]) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.executemany(
                SQL("INSERT INTO {}.{} VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING").format(
                    *self.command_table
                ),
                [(r.command_id, r.originator_id, r.version, r.digest) for r in rows],
            )

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
