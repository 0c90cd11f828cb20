"""Backup and restore: a consistent copy of the record (every stored event, its link in the
audit chain, the API users, the audit signing key and sealed heads) in one portable file
of JSON lines that restores into SQLite or PostgreSQL alike.

Consistent: an SQLite store is first copied with sqlite3's online backup API (a snapshot,
however busy the store), a PostgreSQL one is read in one REPEATABLE READ transaction.
Events keep their stored bytes and notification ids, so the chain verifies after a restore
exactly as before. The read models are not copied: a restore rebuilds them from the events.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO
from uuid import UUID

from adapters.audit.chain import CHAIN_TABLE
from adapters.settings import Settings
from adapters.store import describe_failure, open_engine, open_read_store
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


@dataclass
class Restored:
    counts: Counts
    read_models_rebuilt: int
    verify: dict[str, Any] = field(default_factory=dict)


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


def _count(conn: Any, table: str) -> int:
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
        raise describe_failure(error, f"the backup file {path}") from None
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
        events, links = _count(conn, tables.q(tables.events)), _count(conn, tables.q(tables.chain))
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
    out.handle.write(
        json.dumps({"kind": "end", **asdict(counts), "sha256": out.digest.hexdigest()}).encode()
        + b"\n"
    )
    return counts


def _write_users(settings: Settings, out: _Lines) -> int:
    from adapters.api.users import UserRow, create_table, list_users

    reads = open_read_store(settings)
    try:
        create_table(reads.engine)
        users = list_users(reads.engine)
    finally:
        reads.close()
    for user in users:
        out.put("user", **UserRow.model_validate(user).model_dump(mode="json"))
    return len(users)


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
                if kind in ("event", "link", "user", "file"):
                    plural = {"event": "events", "link": "links"}.get(kind, kind + "s")
                    setattr(seen, plural, getattr(seen, plural) + 1)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as error:
        raise BackupError(f"{path} is not a readable Kringloop backup ({error})") from None
    if header is None or end is None:
        raise BackupError(f"{path} is cut short: it has no end line (an interrupted copy?)")
    if end.get("sha256") != digest.hexdigest():
        raise BackupError(f"{path} was changed or damaged after it was written (checksum differs)")
    if asdict(seen) != {k: end.get(k) for k in asdict(seen)}:
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


def _records(path: Path, kind: str) -> Iterator[dict[str, Any]]:
    needle = f'"kind":"{kind}"'.encode()  # cannot occur inside a JSON string: quotes are escaped
    with path.open("rb") as handle:
        for raw in handle:
            if needle in raw and (record := json.loads(raw))["kind"] == kind:
                yield record


# -- restoring -----------------------------------------------------------------------------------


def restore_backup(
    settings: Settings,
    path: Path,
    force: bool = False,
    on_total: Progress = lambda n: None,
    on_progress: Progress = lambda n: None,
) -> Restored:
    """Restore into the store these settings name: refused if it already holds anything,
    unless ``force``. Events and chain go in one transaction; then users and the audit
    folder; then the read models are rebuilt and the chain verified."""
    from adapters.audit.verify import verify_store
    from projections.runner import Runner

    _, end = check_backup(path)
    on_total(int(end["events"]) * 2 + int(end["links"]))  # write, rebuild; links
    engine = open_engine(settings)
    reads = open_read_store(settings)
    try:
        tables = Tables.of(engine)
        _check_empty(settings, tables, reads, force)
        counts = _restore_events(settings, tables, path, force, on_progress)
        counts.users = _restore_users(reads, path)
        counts.files = _restore_files(settings.home / "audit", path, force)
    finally:
        engine.close()
    engine = open_engine(settings)  # nothing cached from before the restore
    try:
        rebuilt = Runner(engine, reads).rebuild(on_progress)
        report, _ = verify_store(engine.recorder, settings.home)
    finally:
        engine.close()
        reads.close()
    return Restored(counts, rebuilt, report.as_dict())


@contextmanager
def _target(settings: Settings) -> Iterator[Any]:
    """A connection on the event store in one write transaction (committed on success)."""
    if settings.database_url:
        import psycopg

        with psycopg.connect(settings.database_url) as conn, conn.transaction():
            yield conn
        return
    with closing(sqlite3.connect(settings.events_path, timeout=30)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def _check_empty(settings: Settings, tables: Tables, reads: Any, force: bool) -> None:
    from adapters.api.users import create_table, list_users

    with _target(settings) as conn:
        events = _count(conn, tables.q(tables.events))
    create_table(reads.engine)
    users = len(list_users(reads.engine))
    audit = settings.home / "audit"
    files = sum(1 for p in audit.rglob("*") if p.is_file()) if audit.exists() else 0
    found = [
        f"{n} {what}"
        for n, what in ((events, "events"), (users, "API users"), (files, "audit files"))
        if n
    ]
    if found and not force:
        raise BackupError(
            f"the target store ({settings.storage_label}) is not empty: it holds "
            f"{', '.join(found)}. Restore into an empty data folder or database, or pass "
            "--force to replace them (the old audit folder is kept beside it)"
        )


def _restore_events(
    settings: Settings, tables: Tables, path: Path, force: bool, on_progress: Progress
) -> Counts:
    counts, pg = Counts(), bool(settings.database_url)
    mark = "%s" if pg else "?"
    marks = ", ".join([mark] * 5)
    number = "notification_id" if pg else "rowid"

    def key(originator: str) -> Any:
        return UUID(originator) if pg else originator

    with _target(settings) as conn:
        cursor = conn.cursor()
        if pg:
            cursor.execute(f"LOCK TABLE {tables.q(tables.events)} IN EXCLUSIVE MODE")
        if force:
            for table in (tables.events, tables.chain, tables.snapshots):
                if table:
                    cursor.execute(f"DELETE FROM {tables.q(table)}")  # noqa: S608
        insert = (
            f"INSERT INTO {tables.q(tables.events)} "  # noqa: S608
            f"({number}, originator_id, originator_version, topic, state) VALUES ({marks})"
        )
        last = 0

        def events() -> Iterator[tuple[Any, ...]]:
            nonlocal last
            for e in _records(path, "event"):
                last = max(last, e["id"])
                state = base64.b64decode(e["state"])
                yield (e["id"], key(e["originator_id"]), e["version"], e["topic"], state)

        counts.events = _insert(cursor, insert, events(), on_progress)
        links = (
            (key(r["originator_id"]), r["version"], r["content_hash"], r["chain_hash"])
            for r in _records(path, "link")
        )
        chain = f"INSERT INTO {tables.q(tables.chain)} VALUES ({', '.join([mark] * 4)})"  # noqa: S608
        counts.links = _insert(cursor, chain, links, on_progress)
        if pg and last:  # the next event recorded continues after the restored ones
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), %s)",
                (tables.q(tables.events), last),
            )
    return counts


def _insert(cursor: Any, sql: str, rows: Iterator[tuple[Any, ...]], on_progress: Progress) -> int:
    done = 0
    while batch := list(itertools.islice(rows, BATCH)):
        cursor.executemany(sql, batch)
        done += len(batch)
        on_progress(len(batch))
    return done


def _restore_users(reads: Any, path: Path) -> int:
    from sqlmodel import Session, delete

    from adapters.api.users import UserRow

    users = [
        UserRow.model_validate({k: v for k, v in r.items() if k != "kind"})
        for r in _records(path, "user")
    ]
    with Session(reads.engine) as session:
        session.exec(delete(UserRow))  # type: ignore[call-overload]
        session.add_all(users)
        session.commit()
    return len(users)


def _restore_files(folder: Path, path: Path, force: bool) -> int:
    if force and folder.exists():
        stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%S")
        shutil.move(folder, folder.with_name(f"audit.before-restore-{stamp}"))
    restored = 0
    for record in _records(path, "file"):
        target = (folder / record["path"]).resolve()
        if not target.is_relative_to(folder.resolve()):
            raise BackupError(f"{path}: a file outside the audit folder: {record['path']}")
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, record["mode"])
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(base64.b64decode(record["data"]))
        restored += 1
    return restored
