"""The keys of personal data: one AES-256-GCM key per data subject, kept outside the event
store and wrapped (encrypted at rest) with a master key kept like the audit signing key.

Where: an SQLite file ``DATA/privacy/keys.sqlite`` beside an SQLite store (its own file,
``secure_delete`` on and vacuumed after a key is destroyed, so that no copy of a destroyed
key is left in its free pages), or the table ``kringloop_subject_keys`` in the read models'
schema on PostgreSQL. The master key is ``DATA/privacy/master-key`` (mode 600), or the file
``KRINGLOOP_PRIVACY_KEY`` names, outside the data folder, for a service account only.

A destroyed key leaves a row without a key: the subject was forgotten, and no new key is ever
made for them (``seal`` refuses), so nothing can be sealed again under a forgotten identity.
Nothing here is cached between calls: once a key is destroyed, no process reveals it again.
"""

from __future__ import annotations

import base64
import os
import secrets
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.settings import Settings
from domain.errors import KringloopError
from domain.messages import N_
from domain.personal import Personal

ENV = "KRINGLOOP_PRIVACY_KEY"  # also a field of adapters.settings.Settings (documented there)
TABLE = "kringloop_subject_keys"
VERSION = "v1"
KEYS_LOCK = 7_405_184_236_502  # pg_advisory_lock key: creating the key table


class PrivacyKeyError(KringloopError):
    code = "privacy-key"


@dataclass(frozen=True)
class KeyRow:
    """One subject's key as kept: wrapped with the master key, or None once forgotten."""

    subject: str
    key_id: str
    wrapped: bytes | None
    created_at: str
    forgotten_at: str | None


def master_path(settings: Settings) -> Path:
    configured = os.environ.get(ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    if settings.privacy_key:
        return settings.privacy_key.expanduser()
    return settings.home / "privacy" / "master-key"


def master_key(settings: Settings, create: bool = True) -> bytes:
    """The master key (32 bytes), made (mode 600) on first use in the data folder; one named
    by KRINGLOOP_PRIVACY_KEY must exist already: never a new one where an old one was."""
    path = master_path(settings)
    try:
        if path.exists():
            raw = base64.b64decode(path.read_text().strip(), validate=True)
            if len(raw) != 32:
                raise PrivacyKeyError(N_("{path} is not a privacy master key"), path=str(path))
            return raw
        outside = path != settings.home / "privacy" / "master-key"
        if outside or not create:
            raise PrivacyKeyError(
                N_("no privacy master key at {path} that this process may read"), path=str(path)
            )
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = _new_key()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(base64.b64encode(key).decode() + "\n")
        return key
    except PermissionError as error:
        raise PrivacyKeyError(
            N_("no access to the privacy master key at {path} ({problem})"),
            path=str(path),
            problem=error.strerror or "",
        ) from None


def _new_key() -> bytes:
    return secrets.token_bytes(32)  # AES-256


def _aad(subject: str, key_id: str) -> bytes:
    return f"kringloop-personal/{VERSION}\x1f{subject}\x1f{key_id}".encode()


def _encrypt(key: bytes, plain: bytes, aad: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # when personal data is

    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(key).encrypt(nonce, plain, aad)


def _decrypt(key: bytes, sealed: bytes, aad: bytes) -> bytes | None:
    """The plain bytes, or None if the key does not fit or the sealed bytes were altered."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        return AESGCM(key).decrypt(sealed[:12], sealed[12:], aad)
    except (InvalidTag, ValueError):
        return None


class StoredKeyring:
    """The keyring of one store (see the module's text): seals, reveals, forgets."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._made = False

    # -- the table -------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self.settings.home / "privacy" / "keys.sqlite"

    @contextmanager
    def _db(self) -> Iterator[Any]:
        """A connection in a transaction (committed on leaving), the table made."""
        if self.settings.database_url:
            import psycopg

            with psycopg.connect(self.settings.database_url, connect_timeout=10) as conn:
                if not self._made:
                    self._create_postgres(conn)
                yield conn
            return
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as conn:
            conn.execute("PRAGMA secure_delete=ON")  # a deleted key's bytes are zeroed
            if not self._made:
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {TABLE} (subject TEXT PRIMARY KEY, "
                    "key_id TEXT NOT NULL, wrapped BLOB, created_at TEXT NOT NULL, "
                    "forgotten_at TEXT)"
                )
                self._made = True
            with conn:
                yield conn

    def _create_postgres(self, conn: Any) -> None:
        from psycopg import sql

        conn.execute("SELECT pg_advisory_xact_lock(%s)", (KEYS_LOCK,))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(self._schema_identifier()))
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (subject TEXT PRIMARY KEY, key_id TEXT NOT NULL, "
                "wrapped BYTEA, created_at TEXT NOT NULL, forgotten_at TEXT)"
            ).format(self._table())
        )
        conn.commit()
        self._made = True

    def _schema_identifier(self) -> Any:
        from psycopg import sql

        return sql.Identifier(self.settings.read_schema)

    def _table(self) -> Any:
        from psycopg import sql

        return sql.Identifier(self.settings.read_schema, TABLE)

    def _query(self, conn: Any, text: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one statement written for SQLite (``?`` and ``{table}``) on either store."""
        if self.settings.database_url:
            from psycopg import sql

            statement = sql.SQL(text.replace("?", "%s")).format(table=self._table())
            cursor = conn.execute(statement, params)
        else:
            cursor = conn.execute(text.format(table=TABLE), params)
        return list(cursor.fetchall()) if cursor.description else []

    def rows(self, subjects: Iterable[str] | None = None) -> list[KeyRow]:
        """The keys as kept (wrapped), of these subjects or of all."""
        with self._db() as conn:
            if subjects is None:
                found = self._query(
                    conn,
                    "SELECT subject, key_id, wrapped, created_at, forgotten_at FROM {table} "
                    "ORDER BY subject",
                )
            else:
                wanted = sorted(set(subjects))
                found = []
                for start in range(0, len(wanted), 500):
                    part = wanted[start : start + 500]
                    marks = ", ".join("?" * len(part))
                    found += self._query(
                        conn,
                        "SELECT subject, key_id, wrapped, created_at, forgotten_at "  # noqa: S608
                        f"FROM {{table}} WHERE subject IN ({marks})",
                        tuple(part),
                    )
        return [
            KeyRow(r[0], r[1], bytes(r[2]) if r[2] is not None else None, r[3], r[4]) for r in found
        ]

    # -- the keyring (domain.personal.Keyring) --------------------------------------------

    def seal(self, subject: str, text: str) -> Personal:
        master = master_key(self.settings)
        with self._db() as conn:
            new_id = secrets.token_hex(8)
            self._query(  # made once: a process sealing for the same person at once keeps its
                conn,
                "INSERT INTO {table} (subject, key_id, wrapped, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (subject) DO NOTHING",
                (
                    subject,
                    new_id,
                    _encrypt(master, _new_key(), _aad(subject, new_id)),
                    datetime.now(tz=UTC).isoformat(),
                ),
            )
            found = self._query(
                conn, "SELECT key_id, wrapped FROM {table} WHERE subject = ?", (subject,)
            )
        key_id, wrapped_or_none = str(found[0][0]), found[0][1]
        if wrapped_or_none is None:  # forgotten: no key is made for them again,
            return Personal(subject, "")  # and the register refuses, saying when and why
        wrapped = bytes(wrapped_or_none)
        key = _decrypt(master, wrapped, _aad(subject, key_id))
        if key is None:
            raise PrivacyKeyError(
                N_("the key of '{subject}' does not open with this master key"), subject=subject
            )
        body = _encrypt(key, text.encode(), _aad(subject, key_id))
        return Personal(subject, f"{VERSION}.{key_id}.{base64.b64encode(body).decode()}")

    def reveal(self, values: Iterable[Personal]) -> dict[Personal, str | None]:
        wanted = list(dict.fromkeys(values))
        if not wanted:
            return {}
        keys = {r.subject: r for r in self.rows(v.subject for v in wanted)}
        master = (
            master_key(self.settings, create=False)
            if any(r.wrapped is not None for r in keys.values())
            else b""
        )
        opened: dict[Personal, str | None] = {}
        for value in wanted:
            row = keys.get(value.subject)
            opened[value] = None
            if row is None or row.wrapped is None:
                continue
            version, key_id, body = [*value.sealed.split(".", 2), "", ""][:3]
            if version != VERSION or key_id != row.key_id:
                continue  # sealed under a key that no longer exists
            aad = _aad(value.subject, key_id)
            key = _decrypt(master, row.wrapped, aad)
            try:
                plain = _decrypt(key, base64.b64decode(body), aad) if key else None
            except ValueError:  # not base64: not ours, or altered
                plain = None
            opened[value] = plain.decode() if plain is not None else None
        return opened

    def forget(self, subject: str) -> bool:
        """Destroy the subject's key, keep the mark that they were forgotten, and leave no
        copy of the key in the file (vacuumed) or the table."""
        now = datetime.now(tz=UTC).isoformat()
        with self._db() as conn:
            found = self._query(conn, "SELECT wrapped FROM {table} WHERE subject = ?", (subject,))
            had_key = bool(found) and found[0][0] is not None
            if found:
                self._query(
                    conn,
                    "UPDATE {table} SET wrapped = NULL, forgotten_at = COALESCE(forgotten_at, ?) "
                    "WHERE subject = ?",
                    (now, subject),
                )
            else:
                self._query(
                    conn,
                    "INSERT INTO {table} (subject, key_id, wrapped, created_at, forgotten_at) "
                    "VALUES (?, '', NULL, ?, ?)",
                    (subject, now, now),
                )
        self.compact()
        return had_key

    def compact(self) -> None:
        """Rewrite the key table's storage, so no destroyed key survives in free space."""
        if self.settings.database_url:
            import psycopg

            with psycopg.connect(self.settings.database_url, autocommit=True) as conn:
                from psycopg import sql

                conn.execute(sql.SQL("VACUUM FULL {}").format(self._table()))
            return
        if self.path.exists():
            with closing(sqlite3.connect(self.path, timeout=30)) as conn:
                conn.execute("VACUUM")

    def restore_rows(self, rows: Iterable[KeyRow]) -> int:
        """Put keys back as a backup kept them (wrapped: the master key comes with them), in
        place of any kept here."""
        count = 0
        with self._db() as conn:
            self._query(conn, "DELETE FROM {table}")
            for r in rows:
                self._query(
                    conn,
                    "INSERT INTO {table} (subject, key_id, wrapped, created_at, forgotten_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (r.subject, r.key_id, r.wrapped, r.created_at, r.forgotten_at),
                )
                count += 1
        return count


def keyring_for(settings: Settings) -> StoredKeyring:
    return StoredKeyring(settings)
