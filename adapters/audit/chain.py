"""The hash chain: every stored event gets a content hash and a chain hash
(``sha256(previous chain hash + content hash)``), written by the recorder in the same
transaction as the event itself, so no event can be recorded without its link."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder

CHAIN_TABLE = "kringloop_chain"
GENESIS = "0" * 64


def content_hash(originator_id: str, topic: str, state: bytes) -> str:
    """The hash of one stored event exactly as stored (cipher text if encrypted). The
    version is left out on purpose: the chain binds each event to its place, and an event
    found at another place than recorded can then be named as moved, not just altered."""
    digest = hashlib.sha256()
    digest.update(f"{originator_id}\x1f{topic}\x1f".encode())
    digest.update(state)
    return digest.hexdigest()


def link(previous: str, content: str) -> str:
    return hashlib.sha256(f"{previous}{content}".encode()).hexdigest()


@dataclass(frozen=True)
class StoredRow:
    """An event as stored, and its place in the notification log."""

    notification_id: int
    originator_id: str
    version: int
    topic: str
    state: bytes


@dataclass(frozen=True)
class ChainRow:
    originator_id: str
    version: int
    content_hash: str
    chain_hash: str


def chain_rows(
    stored_events: Sequence[StoredEvent], head_of: Any
) -> list[tuple[str, int, str, str]]:
    """Chain rows for events about to be stored; ``head_of(id, version)`` gives the chain
    hash already stored at that version."""
    rows = []
    heads: dict[str, str] = {}
    for s in stored_events:
        originator = (
            s.originator_id.hex if isinstance(s.originator_id, UUID) else str(s.originator_id)
        )
        previous = heads.get(originator)
        if previous is None:
            previous = (
                GENESIS
                if s.originator_version == 1
                else head_of(originator, s.originator_version - 1)
            )
        content = content_hash(originator, s.topic, bytes(s.state))
        chained = link(previous, content)
        heads[originator] = chained
        rows.append((originator, s.originator_version, content, chained))
    return rows


def _bytes(state: Any) -> bytes:
    # SQLite lets anyone store text where a blob was: hash what is there, never crash
    return state.encode() if isinstance(state, str) else bytes(state)


class Chained:
    """A recorder that writes the hash chain: ChainedSQLiteRecorder here, or
    adapters.audit.chain_postgres.ChainedPostgresRecorder (apart, so that an SQLite store
    never imports psycopg)."""


class ChainedSQLiteRecorder(Chained, SQLiteApplicationRecorder):
    """SQLite's application recorder, with the chain table beside the events."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} (originator_id TEXT, version INTEGER, "
            "content_hash TEXT, chain_hash TEXT, PRIMARY KEY (originator_id, version)) "
            "WITHOUT ROWID",
        ]

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        def head_of(originator: str, version: int) -> str:
            c.execute(
                f"SELECT chain_hash FROM {CHAIN_TABLE} WHERE originator_id=? AND version=?",  # noqa: S608
                (originator, version),
            )
            found = c.fetchone()
            return str(found[0]) if found else GENESIS

        returning = super()._insert_events(c, stored_events, **kwargs)
        rows = chain_rows(stored_events, head_of)
        c.executemany(f"INSERT INTO {CHAIN_TABLE} VALUES (?, ?, ?, ?)", rows)  # noqa: S608
        return returning

    def stored_page(self, after: tuple[str, int], limit: int) -> list[StoredRow]:
        """Stored events in (aggregate, version) order, after a key."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT rowid, originator_id, originator_version, topic, state "  # noqa: S608
                f"FROM {self.events_table_name} WHERE (originator_id, originator_version) > "
                "(?, ?) ORDER BY originator_id, originator_version LIMIT ?",
                (*after, limit),
            )
            return [StoredRow(r[0], r[1], r[2], r[3], _bytes(r[4])) for r in c.fetchall()]

    def chain_page(self, after: tuple[str, int], limit: int) -> list[ChainRow]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT originator_id, version, content_hash, chain_hash "  # noqa: S608
                f"FROM {CHAIN_TABLE} WHERE (originator_id, version) > (?, ?) "
                "ORDER BY originator_id, version LIMIT ?",
                (*after, limit),
            )
            return [ChainRow(r[0], r[1], r[2], r[3]) for r in c.fetchall()]
