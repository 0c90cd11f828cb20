"""Backup and restore: a consistent copy of the record (every stored event, its link in the
audit chain, the API users, the audit signing key and sealed heads, the personal data's keys)
in one portable file
of JSON lines that restores into SQLite or PostgreSQL alike.

Consistent: an SQLite store is first copied with sqlite3's online backup API (a snapshot,
however busy the store), a PostgreSQL one is read in one REPEATABLE READ transaction.
Events keep their stored bytes and notification ids, so the chain verifies after a restore
exactly as before. The read models are not copied: a restore (adapters.restore) rebuilds
them from the events.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO
from uuid import UUID

from adapters.audit.chain import CHAIN_TABLE
from adapters.failures import describe_failure
from adapters.settings import Settings
from adapters.store import open_engine, open_read_store
from domain.engine import Engine
from domain.errors import KringloopError

FORMAT, VERSION = "kringloop-backup", 1
BATCH = 2000
Progress = Callable[[int], None]


class BackupError(KringloopError):
    code = "backup"


@dataclass
class Counts:
    events: int = 0
    links: int = 0
    users: int = 0
    files: int = 0
    keys: int = 0  # personal data's keys (adapters.keyring), wrapped; none in older backups
    subscriptions: int = 0  # who hears about what, where (notifications); none in older ones


# -- reading the source ----------------------------------------------------------------------


@dataclass
class Tables:
    """Where one engine keeps its events, chain and snapshots (schema on PostgreSQL)."""

    events: str
    chain: str
    snapshots: str | None
    schema: str | None

    @classmethod
    def of(cls, engine: Engine) -> Tables:
        recorder: Any = engine.recorder
        snapshots = engine.snapshots.recorder if engine.snapshots else None
        schema = getattr(recorder.datastore, "schema", None)
        return cls(
            recorder.events_table_name,
            CHAIN_TABLE,
            getattr(snapshots, "events_table_name", None),
            schema,
        )

    def q(self, table: str) -> str:
        return f'"{self.schema}"."{table}"' if self.schema else f'"{table}"'


@contextmanager
def _source(settings: Settings, tables: Tables, scratch: Path) -> Iterator[Any]:
    """A read-only DB-API connection on one consistent state of the event store."""
    if settings.database_url:
        import psycopg

        with psycopg.connect(settings.database_url) as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            with conn.transaction():
                yield conn
        return
    copy = scratch / "events.sqlite"
    with (
        closing(sqlite3.connect(settings.events_path, timeout=30)) as live,
        closing(sqlite3.connect(copy)) as snapshot,
    ):
        live.backup(snapshot)  # the online backup API: a consistent copy, page by page
    with closing(sqlite3.connect(copy)) as conn:
        yield conn


def _rows(conn: Any, sql: str) -> Iterator[tuple[Any, ...]]:
    cursor = conn.cursor(name="backup") if hasattr(conn, "pgconn") else conn.cursor()
    cursor.execute(sql)
    while rows := cursor.fetchmany(BATCH):
        yield from rows
    cursor.close()


def _hex(originator: Any) -> str:
    return originator.hex if isinstance(originator, UUID) else UUID(str(originator)).hex


def count_rows(conn: Any, table: str) -> int:
    cursor = conn.cursor()
    cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (our own table names)
    return int(cursor.fetchone()[0])


# -- writing the backup -----------------------------------------------------------------------


class _Lines:
    """JSON lines with a running SHA-256, so a restore can tell a damaged file."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle, self.digest = handle, hashlib.sha256()

    def put(self, kind: str, **data: Any) -> None:
        line = json.dumps({"kind": kind, **data}, sort_keys=True, separators=(",", ":"))
        raw = line.encode() + b"\n"
        self.digest.update(raw)
        self.handle.write(raw)


def write_backup(
    settings: Settings,
    path: Path,
    force: bool = False,
    on_total: Progress = lambda n: None,
    on_progress: Progress = lambda n: None,
) -> Counts:
    """Write the backup to ``path`` (mode 600: it holds the signing key), atomically: a
    failed backup leaves no file, and an existing one is replaced only with ``force``."""
    if path.exists() and not force:
        raise BackupError(f"{path} exists: choose another name, or pass --force to replace it")
    partial = path.with_name(path.name + ".partial")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            counts = _write(settings, _Lines(handle), path.parent, on_total, on_progress)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise describe_failure(
            error,
            f"the backup file {path}",
            outcome="No backup was written; the store is untouched.",
        ) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return counts


def _write(
    settings: Settings, out: _Lines, scratch_in: Path, on_total: Progress, on_progress: Progress
) -> Counts:
    counts = Counts()
    engine = open_engine(settings)  # creates the tables of a store never used: an empty backup
    try:
        tables = Tables.of(engine)
    finally:
        engine.close()
    with (
        tempfile.TemporaryDirectory(dir=scratch_in, prefix=".kringloop-backup-") as scratch,
        _source(settings, tables, Path(scratch)) as conn,
    ):
        events, links = (
            count_rows(conn, tables.q(tables.events)),
            count_rows(conn, tables.q(tables.chain)),
        )
        on_total(events + links)
        out.put(
            "header",
            format=FORMAT,
            version=VERSION,
            created_at=datetime.now(tz=UTC).isoformat(),
            source="postgresql" if settings.database_url else "sqlite",
            events=events,
            links=links,
        )
        number = "notification_id" if settings.database_url else "rowid"
        for nid, originator, version, topic, state in _rows(
            conn,
            f"SELECT {number}, originator_id, originator_version, topic, state "  # noqa: S608
            f"FROM {tables.q(tables.events)} ORDER BY {number}",
        ):
            state = state.encode() if isinstance(state, str) else bytes(state)
            out.put(
                "event",
                id=nid,
                originator_id=_hex(originator),
                version=version,
                topic=topic,
                state=base64.b64encode(state).decode(),
            )
            counts.events += 1
            if counts.events % BATCH == 0:
                on_progress(BATCH)
        on_progress(counts.events % BATCH)
        for originator, version, content, chained in _rows(
            conn,
            "SELECT originator_id, version, content_hash, chain_hash "  # noqa: S608
            f"FROM {tables.q(tables.chain)} ORDER BY originator_id, version",
        ):
            out.put(
                "link",
                originator_id=_hex(originator),
                version=version,
                content_hash=content,
                chain_hash=chained,
            )
            counts.links += 1
        on_progress(counts.links)
    counts.users = _write_users(settings, out)
    counts.files = _write_files(settings.home / "audit", out)
    counts.keys = _write_keys(settings, out)
    counts.subscriptions = _write_subscriptions(settings, out)
    out.handle.write(
        json.dumps({"kind": "end", **asdict(counts), "sha256": out.digest.hexdigest()}).encode()
        + b"\n"
    )
    return counts


def _write_users(settings: Settings, out: _Lines) -> int:
    from adapters.accounts.users import UserRow, create_table, list_users

    return _write_rows(settings, out, "user", UserRow, create_table, list_users)


def _write_subscriptions(settings: Settings, out: _Lines) -> int:
    """What each identity wants to hear, and where: kept beside the record, not rebuilt from
    it, so a restore would lose it without this."""
    from adapters.notifications.store import SubscriptionRow, create_tables, subscriptions

    return _write_rows(settings, out, "subscription", SubscriptionRow, create_tables, subscriptions)


def _write_rows(
    settings: Settings,
    out: _Lines,
    kind: str,
    model: Any,
    create: Callable[[Any], None],
    listed: Callable[[Any], list[Any]],
) -> int:
    """One record of ``kind`` per row of a table kept beside the record in the read store."""
    reads = open_read_store(settings)
    try:
        create(reads.engine)
        rows = listed(reads.engine)
    finally:
        reads.close()
    for row in rows:
        out.put(kind, **model.model_validate(row).model_dump(mode="json"))
    return len(rows)


def _write_keys(settings: Settings, out: _Lines) -> int:
    """The personal data's keys as kept (wrapped), and the master key if it lives in the
    data folder (as the signing key does). A forgotten subject's row has no key: a backup
    made after an erasure cannot bring the erased data back."""
    from adapters.keyring import StoredKeyring, master_key, master_path

    rows = StoredKeyring(settings).rows()
    if not rows:
        return 0
    path = master_path(settings)
    if path.is_relative_to(settings.home) and path.exists():
        out.put("master-key", data=base64.b64encode(master_key(settings)).decode())
    for row in rows:
        out.put(
            "key",
            subject=row.subject,
            key_id=row.key_id,
            wrapped=base64.b64encode(row.wrapped).decode() if row.wrapped is not None else None,
            created_at=row.created_at,
            forgotten_at=row.forgotten_at,
        )
    return len(rows)


def _write_files(folder: Path, out: _Lines) -> int:
    files = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
    for file in files:
        out.put(
            "file",
            path=file.relative_to(folder).as_posix(),
            mode=file.stat().st_mode & 0o777,
            data=base64.b64encode(file.read_bytes()).decode(),
        )
    return len(files)


# -- checking and reading a backup -------------------------------------------------------------


def check_backup(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and end lines of a sound backup; BackupError for anything else (not a
    backup, a newer format, cut short, or changed since it was written)."""
    digest, header, end, seen = hashlib.sha256(), None, None, Counts()
    try:
        with path.open("rb") as handle:
            for raw in handle:
                record = json.loads(raw)
                if end is not None:
                    raise BackupError(f"{path}: lines after the end line")
                if record.get("kind") == "end":
                    end = record
                    continue
                digest.update(raw)
                if header is None:
                    header = record
                    _check_header(path, header)
                kind = record.get("kind")
                if kind in ("event", "link", "user", "file", "key", "subscription"):
                    plural = {"event": "events", "link": "links"}.get(kind, kind + "s")
                    setattr(seen, plural, getattr(seen, plural) + 1)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as error:
        raise BackupError(f"{path} is not a readable Kringloop backup ({error})") from None
    if header is None or end is None:
        raise BackupError(f"{path} is cut short: it has no end line (an interrupted copy?)")
    if end.get("sha256") != digest.hexdigest():
        raise BackupError(f"{path} was changed or damaged after it was written (checksum differs)")
    later = ("keys", "subscriptions")  # counts older backups do not have: none of them
    if asdict(seen) != {k: end.get(k, 0 if k in later else None) for k in asdict(seen)}:
        raise BackupError(f"{path} holds other counts than its end line says: {asdict(seen)}")
    return header, end


def _check_header(path: Path, header: dict[str, Any]) -> None:
    if header.get("kind") != "header" or header.get("format") != FORMAT:
        raise BackupError(f"{path} is not a Kringloop backup")
    if header.get("version") != VERSION:
        raise BackupError(
            f"{path} is a backup of format version {header.get('version')}; this Kringloop "
            f"reads version {VERSION}: restore it with the Kringloop that wrote it"
        )


def records(path: Path, kind: str) -> Iterator[dict[str, Any]]:
    needle = f'"kind":"{kind}"'.encode()  # cannot occur inside a JSON string: quotes are escaped
    with path.open("rb") as handle:
        for raw in handle:
            if needle in raw and (record := json.loads(raw))["kind"] == kind:
                yield record
