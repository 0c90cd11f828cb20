"""Restoring a backup (adapters.backup) into an empty store, SQLite or PostgreSQL: events
and chain links in one transaction at their old notification ids, then the API users and
the audit folder; then the read models are rebuilt and the chain verified."""

from __future__ import annotations

import base64
import itertools
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from adapters.backup import (
    BATCH,
    BackupError,
    Counts,
    Progress,
    Tables,
    check_backup,
    count_rows,
    records,
)
from adapters.settings import Settings
from adapters.store import open_engine, open_read_store


@dataclass
class Restored:
    counts: Counts
    read_models_rebuilt: int
    verify: dict[str, Any] = field(default_factory=dict)


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
        counts.keys = _restore_keys(settings, path)
        counts.subscriptions = _restore_subscriptions(reads, path)
    finally:
        engine.close()
    engine = open_engine(settings)  # nothing cached from before the restore
    try:
        rebuilt = Runner(engine, reads).rebuild(on_progress)
        report, _ = verify_store(engine.recorder, settings.home, settings=settings)
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
    with closing(sqlite3.connect(settings.events_path, timeout=30)) as lite:
        lite.execute("BEGIN IMMEDIATE")
        try:
            yield lite
        except BaseException:
            lite.rollback()
            raise
        lite.commit()


def _check_empty(settings: Settings, tables: Tables, reads: Any, force: bool) -> None:
    from adapters.accounts.users import create_table, list_users

    with _target(settings) as conn:
        events = count_rows(conn, tables.q(tables.events))
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
            for e in records(path, "event"):
                last = max(last, e["id"])
                state = base64.b64decode(e["state"])
                yield (e["id"], key(e["originator_id"]), e["version"], e["topic"], state)

        counts.events = _insert(cursor, insert, events(), on_progress)
        links = (
            (key(r["originator_id"]), r["version"], r["content_hash"], r["chain_hash"])
            for r in records(path, "link")
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
    from adapters.accounts.sessions import end_all_sessions
    from adapters.accounts.users import UserRow

    restored = _replace_rows(reads, path, "user", UserRow)
    end_all_sessions(reads.engine)  # not in a backup: after a restore everyone logs in again
    return restored


def _restore_subscriptions(reads: Any, path: Path) -> int:
    """Who hears about what, where, as the backup kept it, in place of any kept here."""
    from adapters.notifications.store import SubscriptionRow, create_tables

    create_tables(reads.engine)
    return _replace_rows(reads, path, "subscription", SubscriptionRow)


def _replace_rows(reads: Any, path: Path, kind: str, model: Any) -> int:
    """The rows of a table kept beside the record, as the backup's ``kind`` records hold
    them, in place of those kept here."""
    from sqlmodel import Session, delete

    rows = [
        model.model_validate({k: v for k, v in r.items() if k != "kind"})
        for r in records(path, kind)
    ]
    with Session(reads.engine) as session:
        session.exec(delete(model))
        session.add_all(rows)
        session.commit()
    return len(rows)


def _restore_keys(settings: Settings, path: Path) -> int:
    """The personal data's keys, and the master key that wraps them if the backup holds it
    (one kept outside the data folder is put back by whoever keeps it)."""
    from adapters.keyring import KeyRow, StoredKeyring, master_path

    for record in records(path, "master-key"):
        target = master_path(settings)
        if not target.is_relative_to(settings.home):
            continue
        if target.exists() and target.read_text().strip() != record["data"]:
            stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%S")
            target.rename(target.with_name(f"master-key.before-restore-{stamp}"))
        if not target.exists():
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(record["data"] + "\n")
    rows = [
        KeyRow(
            r["subject"],
            r["key_id"],
            base64.b64decode(r["wrapped"]) if r["wrapped"] is not None else None,
            r["created_at"],
            r["forgotten_at"],
        )
        for r in records(path, "key")
    ]
    return StoredKeyring(settings).restore_rows(rows) if rows else 0


def _restore_files(folder: Path, path: Path, force: bool) -> int:
    if force and folder.exists():
        stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%S")
        shutil.move(folder, folder.with_name(f"audit.before-restore-{stamp}"))
    restored = 0
    for record in records(path, "file"):
        target = (folder / record["path"]).resolve()
        if not target.is_relative_to(folder.resolve()):
            raise BackupError(f"{path}: a file outside the audit folder: {record['path']}")
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, record["mode"])
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(base64.b64decode(record["data"]))
        restored += 1
    return restored
