"""A forger with write access to the SQLite store (and the data folder), as an operator
would be: rows written straight into `stored_events` and `kringloop_chain`, every chain
link computed correctly with the recorder's own formula."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from uuid import UUID

from adapters.audit.chain import CHAIN_TABLE, GENESIS, content_hash, link


class Forger:
    def __init__(self, database: Path) -> None:
        self.database = database

    def _rows(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.database) as conn:
            return conn.execute(sql, params).fetchall()

    def events(self, aggregate: UUID) -> list[tuple[int, str, bytes]]:
        """(version, topic, state) of every stored event of the aggregate."""
        rows = self._rows(
            "SELECT originator_version, topic, state FROM stored_events WHERE originator_id=? "
            "ORDER BY originator_version",
            aggregate.hex,
        )
        return [(int(v), str(t), bytes(s)) for v, t, s in rows]  # type: ignore[call-overload]

    def _head(self, aggregate: UUID, version: int) -> str:
        if version == 0:
            return GENESIS
        (found,) = self._rows(
            f"SELECT chain_hash FROM {CHAIN_TABLE} WHERE originator_id=? AND version=?",
            aggregate.hex,
            version,
        )
        return str(found[0])

    def write(self, aggregate: UUID, version: int, topic: str, state: bytes) -> None:
        """Write (or overwrite) one event and its link, the link chained onto the stored
        link before it, exactly as the recorder computes it."""
        content = content_hash(aggregate.hex, topic, state)
        chained = link(self._head(aggregate, version - 1), content)
        with sqlite3.connect(self.database) as conn:
            conn.execute(
                "DELETE FROM stored_events WHERE originator_id=? AND originator_version=?",
                (aggregate.hex, version),
            )
            conn.execute(
                "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
                "VALUES (?, ?, ?, ?)",
                (aggregate.hex, version, topic, state),
            )
            conn.execute(
                f"INSERT OR REPLACE INTO {CHAIN_TABLE} VALUES (?, ?, ?, ?)",
                (aggregate.hex, version, content, chained),
            )

    def append(self, aggregate: UUID, topic: str, state: bytes) -> int:
        """A new event after the aggregate's newest, with a valid link; its version."""
        version = len(self.events(aggregate)) + 1
        self.write(aggregate, version, topic, state)
        return version

    def rewrite(self, aggregate: UUID, version: int, state: bytes) -> None:
        """Change one event and recompute its link and every later link."""
        later = [e for e in self.events(aggregate) if e[0] >= version]
        for number, topic, old in later:
            self.write(aggregate, number, topic, state if number == version else old)

    def copy(self, source: UUID, target: UUID, old: bytes, new: bytes) -> int:
        """A whole aggregate forged from another's events (``old`` replaced by ``new`` in
        every state), chained from genesis; its event count."""
        events = self.events(source)
        for version, topic, state in events:
            self.write(target, version, topic, state.replace(old, new))
        return len(events)

    def delete(self, aggregate: UUID) -> None:
        """Every event and every link of the aggregate."""
        with sqlite3.connect(self.database) as conn:
            conn.execute("DELETE FROM stored_events WHERE originator_id=?", (aggregate.hex,))
            conn.execute(f"DELETE FROM {CHAIN_TABLE} WHERE originator_id=?", (aggregate.hex,))
