"""The hash chain on PostgreSQL (see adapters.audit.chain): a module of its own, so that an
SQLite store never imports psycopg."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

from adapters.audit.chain import (
    CHAIN_TABLE,
    GENESIS,
    Chained,
    ChainRow,
    StoredRow,
    chain_rows,
)


class ChainedPostgresRecorder(Chained, PostgresApplicationRecorder):
    """PostgreSQL's application recorder, with the chain table beside the events."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chain_table = Identifier(self.datastore.schema), Identifier(CHAIN_TABLE)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {}.{} (originator_id uuid NOT NULL, "
                "version bigint NOT NULL, content_hash text NOT NULL, chain_hash text NOT NULL, "
                "PRIMARY KEY (originator_id, version))"
            ).format(*self.chain_table)
        )

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Chain the events once they are in: the library has locked the events table and
        its pipeline has synced, so a competing writer's version conflict has surfaced as
        the IntegrityError the engine retries on (chaining first, in the library's
        `_insert_events` hook, let that conflict surface as "pipeline aborted" instead), and
        the chain heads read here cannot move under us."""
        notification_ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)

        def head_of(originator: str, version: int) -> str:
            curs.execute(
                SQL("SELECT chain_hash FROM {}.{} WHERE originator_id=%s AND version=%s").format(
                    *self.chain_table
                ),
                (originator, version),
            )
            found = curs.fetchone()
            return str(found["chain_hash"]) if found else GENESIS

        rows = chain_rows(stored_events, head_of)
        curs.executemany(
            SQL("INSERT INTO {}.{} VALUES (%s, %s, %s, %s)").format(*self.chain_table), rows
        )
        return notification_ids

    def stored_page(self, after: tuple[str, int], limit: int) -> list[StoredRow]:
        """Stored events in (aggregate, version) order, after a key."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL(
                    "SELECT notification_id, originator_id, originator_version, topic, state "
                    "FROM {}.{} WHERE (originator_id, originator_version) > (%s::uuid, %s) "
                    "ORDER BY originator_id, originator_version LIMIT %s"
                ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name)),
                (after[0] or GENESIS[:32], after[1], limit),
            )
            return [
                StoredRow(
                    r["notification_id"],
                    r["originator_id"].hex,
                    r["originator_version"],
                    r["topic"],
                    bytes(r["state"]),
                )
                for r in curs.fetchall()
            ]

    def chain_page(self, after: tuple[str, int], limit: int) -> list[ChainRow]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL(
                    "SELECT originator_id, version, content_hash, chain_hash FROM {}.{} "
                    "WHERE (originator_id, version) > (%s::uuid, %s) "
                    "ORDER BY originator_id, version LIMIT %s"
                ).format(*self.chain_table),
                (after[0] or GENESIS[:32], after[1], limit),
            )
            return [
                ChainRow(r["originator_id"].hex, r["version"], r["content_hash"], r["chain_hash"])
                for r in curs.fetchall()
            ]
