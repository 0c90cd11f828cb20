"""`kringloop backup` and `kringloop restore` as an operator runs them: a round trip on
SQLite and on PostgreSQL (and from one to the other) that `audit verify` confirms, a target
that is not empty, a damaged backup, a backup taken while a write is in flight, and a
backup onto a full disk."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from adapters.accounts.users import Role, add_user, create_table, list_users
from adapters.audit.verify import seal, verify_store
from adapters.backup import write_backup
from adapters.restore import restore_backup
from adapters.settings import Settings
from adapters.store import open_engine, open_read_store
from domain.values import Stage
from projections.queries import list_initiatives
from projections.runner import Runner
from tests.conftest import TODAY, runner
from tests.storage.conftest import MakeSettings
from tests.storage.helpers import fill, kringloop, make_store

StoredRows = list[tuple[int, str, int, str, bytes]]


def build(settings: Settings) -> None:
    """A store worth backing up: decisions, an API user, read models and sealed heads."""
    make_store(settings, Stage.CONSORTIUM_FORMED)
    engine, reads = open_engine(settings), open_read_store(settings)
    try:
        create_table(reads.engine)
        add_user(reads.engine, "audrey", Role.AUDITOR)
        Runner(engine, reads).catch_up()
        report, heads = verify_store(engine.recorder, settings.home)
        assert report.ok
        seal(settings.home, heads)
    finally:
        engine.close()
        reads.close()


def stored(settings: Settings) -> StoredRows:
    """Every event as stored: notification id, aggregate, version, topic and bytes."""
    engine = open_engine(settings)
    try:
        return [
            (n.id, str(n.originator_id), n.originator_version, n.topic, bytes(n.state))
            for n in engine.recorder.select_notifications(start=1, limit=1_000_000)
        ]
    finally:
        engine.close()


def read_side(settings: Settings) -> tuple[list[Any], list[str]]:
    """What the read models and the users table answer."""
    reads = open_read_store(settings)
    try:
        create_table(reads.engine)
        initiatives = [s.model_dump() for s in list_initiatives(reads, today=TODAY)]
        return initiatives, [
            f"{u.name}:{u.role}:{u.token_sha256}" for u in list_users(reads.engine)
        ]
    finally:
        reads.close()


def ok_json(done: Any) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_backup_restores_into_an_empty_store_and_verifies(
    make_settings: MakeSettings, tmp_path: Path, backend: str
) -> None:
    source, target = make_settings(backend), make_settings(backend)
    build(source)
    path = tmp_path / "record.backup"

    written = ok_json(kringloop(source, "backup", str(path), "--json"))
    assert written == {
        "backup": str(path),
        "events": len(stored(source)),
        "links": len(stored(source)),
        "users": 1,
        "files": 2,  # the signing key and one seal
        "keys": 0,  # no person named: no personal data's key (tests/e2e/test_privacy.py)
        "subscriptions": 0,  # round trip: tests/e2e/test_privacy.py
    }
    assert path.stat().st_mode & 0o777 == 0o600  # it holds the signing key

    restored = ok_json(kringloop(target, "restore", str(path), "--json"))
    assert restored["verify"]["ok"]
    assert restored["read_models_rebuilt"] == written["events"]
    checked = kringloop(target, "audit", "verify", "--json")
    assert checked.returncode == 0, checked.stdout
    assert json.loads(checked.stdout)["sealed_heads_checked"] > 0  # the seal came along

    assert stored(target) == stored(source)  # the same bytes at the same notification ids
    assert read_side(target) == read_side(source)
    engine = open_engine(target)  # the restored store carries on after the restored events
    try:
        engine.clock = lambda: TODAY
        step = runner(engine)("withdraw-board", initiative_id="timber", handover_note="go on")
        assert step.notification_id == written["events"] + 1
    finally:
        engine.close()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("source_kind", "target_kind"), [("sqlite", "postgres"), ("postgres", "sqlite")]
)
def test_a_backup_of_one_kind_of_store_restores_into_the_other(
    make_settings: MakeSettings, tmp_path: Path, source_kind: str, target_kind: str
) -> None:
    source, target = make_settings(source_kind), make_settings(target_kind)
    build(source)
    path = tmp_path / "record.backup"
    write_backup(source, path)
    restored = restore_backup(target, path)
    assert restored.verify["ok"], restored.verify
    assert stored(target) == stored(source)
    assert read_side(target) == read_side(source)


def test_a_store_that_is_not_empty_is_refused_unless_forced(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    source, target = make_settings("sqlite"), make_settings("sqlite")
    build(source)
    build(target)  # another record already lives there, audit folder and all
    before = stored(target)
    path = tmp_path / "record.backup"
    write_backup(source, path)

    refused = kringloop(target, "restore", str(path))
    assert refused.returncode == 1
    assert "is not empty: it holds" in refused.stderr
    assert "--force" in refused.stderr
    assert stored(target) == before

    forced = ok_json(kringloop(target, "restore", str(path), "--force", "--json"))
    assert forced["verify"]["ok"]
    assert stored(target) == stored(source)
    assert read_side(target) == read_side(source)
    assert len(list(target.home.glob("audit.before-restore-*"))) == 1  # kept, not deleted


@pytest.mark.parametrize("damage", ["altered", "cut short"])
def test_a_damaged_backup_restores_nothing(
    make_settings: MakeSettings, tmp_path: Path, damage: str
) -> None:
    source, target = make_settings("sqlite"), make_settings("sqlite")
    build(source)
    path = tmp_path / "record.backup"
    write_backup(source, path)
    lines = path.read_bytes().splitlines(keepends=True)
    if damage == "altered":
        event = next(i for i, line in enumerate(lines) if b'"kind":"event"' in line)
        lines[event] = lines[event].replace(b'"version":1', b'"version":9')
    else:
        lines = lines[: len(lines) // 2]
    path.write_bytes(b"".join(lines))

    refused = kringloop(target, "restore", str(path))
    assert refused.returncode == 1
    assert "changed or damaged" in refused.stderr or "cut short" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert stored(target) == []


def test_a_backup_taken_during_a_write_holds_only_what_was_committed(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    source = make_settings("sqlite")
    build(source)
    committed = stored(source)
    writer = sqlite3.connect(source.events_path, isolation_level=None)
    try:  # a write in flight: an event row without its chain link, not yet committed
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(
            "INSERT INTO stored_events VALUES (?, ?, ?, ?)",
            (committed[0][1].replace("-", ""), 999, "domain.initiative:Initiative.Stalled", b"{}"),
        )
        written = ok_json(kringloop(source, "backup", str(tmp_path / "b"), "--json"))
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert (written["events"], written["links"]) == (len(committed), len(committed))


def test_a_backup_onto_a_full_disk_is_refused_and_leaves_no_file(
    make_settings: MakeSettings, small_disk: Path
) -> None:
    source = make_settings("sqlite")
    build(source)
    fill(small_disk)
    refused = kringloop(source, "backup", str(small_disk / "record.backup"))
    assert refused.returncode == 1
    assert "is full" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_a_backup_altered_with_its_checksum_redone_restores_but_fails_verification(
    make_settings: MakeSettings, tmp_path: Path
) -> None:
    source, target = make_settings("sqlite"), make_settings("sqlite")
    build(source)
    path = tmp_path / "record.backup"
    write_backup(source, path)
    *body, end = path.read_bytes().splitlines(keepends=True)
    event = next(i for i, line in enumerate(body) if b"TargetSet" in line or b"Proposed" in line)
    record = json.loads(body[event])
    state = json.loads(base64.b64decode(record["state"]))
    state["decision"]["_data_"]["actor"] = "someone-else"  # history rewritten, hashes redone
    record["state"] = base64.b64encode(json.dumps(state).encode()).decode()
    body[event] = (json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n").encode()
    summary = json.loads(end) | {"sha256": hashlib.sha256(b"".join(body)).hexdigest()}
    path.write_bytes(b"".join(body) + (json.dumps(summary) + "\n").encode())

    restored = kringloop(target, "restore", str(path), "--json")
    assert restored.returncode == 1
    problems = json.loads(restored.stdout)["verify"]["problems"]
    assert [(p["version"], p["kind"]) for p in problems] == [(record["version"], "altered")]
