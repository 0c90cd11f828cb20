"""Audit: tampering is caught and named on SQLite and PostgreSQL, exports check offline,
past states read as recorded or as effective, and what-if touches nothing live."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.audit.export import check_export
from adapters.audit.verify import seal, verify_store
from domain.engine import Engine
from domain.values import Stage
from projections.runner import Runner
from projections.store import ReadStore
from tests.conftest import TODAY, runner
from tests.scenario import a_target, at_stage, initiative_at, programme


@pytest.fixture
def recorded(stored_engine: Engine) -> Engine:
    run = at_stage(stored_engine, Stage.SCALED_UP, initiative_id="grass")
    initiative_at(run, Stage.EXPERT_SCAN, initiative_id="other")
    return stored_engine


class Tamper:
    """Direct SQL on the stored rows, as an attacker with database access would do it."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.sqlite = env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"

    def _run(self, sql: str, *params: Any) -> list[Any]:
        if self.sqlite:
            import sqlite3

            with sqlite3.connect(self.env["SQLITE_DBNAME"]) as conn:
                return conn.execute(sql.replace("%s", "?"), params).fetchall()
        table_schema = self.env["POSTGRES_SCHEMA"]
        url = (
            f"postgresql://{self.env['POSTGRES_USER']}@{self.env['POSTGRES_HOST']}:"
            f"{self.env['POSTGRES_PORT']}/{self.env['POSTGRES_DBNAME']}"
        )
        with psycopg.connect(url, autocommit=True, options=f"-csearch_path={table_schema}") as conn:
            cursor = conn.execute(sql.replace("stored_events", "kringloop_events"), params)
            return cursor.fetchall() if cursor.description else []

    def _id(self, aggregate: Any) -> Any:
        return aggregate.hex if self.sqlite else aggregate

    def state(self, aggregate: Any, version: int) -> bytes:
        rows = self._run(
            "SELECT state FROM stored_events WHERE originator_id=%s AND originator_version=%s",
            self._id(aggregate),
            version,
        )
        return bytes(rows[0][0])

    def set_state(self, aggregate: Any, version: int, state: bytes) -> None:
        self._run(
            "UPDATE stored_events SET state=%s WHERE originator_id=%s AND originator_version=%s",
            state,
            self._id(aggregate),
            version,
        )

    def topic(self, aggregate: Any, version: int) -> str:
        rows = self._run(
            "SELECT topic FROM stored_events WHERE originator_id=%s AND originator_version=%s",
            self._id(aggregate),
            version,
        )
        return str(rows[0][0])

    def swap(self, aggregate: Any, one: int, other: int) -> None:
        """Move two whole events into each other's places."""
        first = (self.topic(aggregate, one), self.state(aggregate, one))
        second = (self.topic(aggregate, other), self.state(aggregate, other))
        for version, (topic, state) in ((one, second), (other, first)):
            self._run(
                "UPDATE stored_events SET topic=%s, state=%s WHERE originator_id=%s AND "
                "originator_version=%s",
                topic,
                state,
                self._id(aggregate),
                version,
            )

    def delete(self, aggregate: Any, version: int, with_link: bool = False) -> None:
        self._run(
            "DELETE FROM stored_events WHERE originator_id=%s AND originator_version=%s",
            self._id(aggregate),
            version,
        )
        if with_link:
            self._run(
                "DELETE FROM kringloop_chain WHERE originator_id=%s AND version=%s",
                self._id(aggregate),
                version,
            )

    def insert(self, aggregate: Any, version: int, topic: str, state: bytes) -> None:
        self._run(
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s)",
            self._id(aggregate),
            version,
            topic,
            state,
        )


def problems(engine: Engine, home: Path) -> list[tuple[str, int, str]]:
    report, _ = verify_store(engine.recorder, home)
    return [(p.aggregate, p.version, p.kind) for p in report.problems]


def test_a_clean_store_verifies(recorded: Engine, tmp_path: Path) -> None:
    report, heads = verify_store(recorded.recorder, tmp_path)
    assert report.ok
    assert report.events == recorded.recorder.max_notification_id()
    assert len(heads) == 4  # the authority register, the programme and two initiatives


def test_an_altered_event_is_named(
    recorded: Engine, store_env: dict[str, str], tmp_path: Path
) -> None:
    grass = recorded.initiative("grass").id
    tamper = Tamper(store_env)
    tamper.set_state(grass, 5, tamper.state(grass, 5).replace(b"broker-anna", b"broker-eve!"))
    assert problems(recorded, tmp_path) == [(grass.hex, 5, "altered")]


def test_a_removed_event_is_named(
    recorded: Engine, store_env: dict[str, str], tmp_path: Path
) -> None:
    grass = recorded.initiative("grass").id
    Tamper(store_env).delete(grass, 7)
    assert problems(recorded, tmp_path) == [(grass.hex, 7, "missing")]


def test_reordered_events_are_named(
    recorded: Engine, store_env: dict[str, str], tmp_path: Path
) -> None:
    grass = recorded.initiative("grass").id
    Tamper(store_env).swap(grass, 3, 4)
    assert problems(recorded, tmp_path) == [
        (grass.hex, 3, "reordered"),
        (grass.hex, 4, "reordered"),
    ]


def test_an_inserted_event_is_named(
    recorded: Engine, store_env: dict[str, str], tmp_path: Path
) -> None:
    other = recorded.initiative("other")
    tamper = Tamper(store_env)
    last = tamper.state(other.id, other.version)
    topic = "domain.initiative:Initiative.Stalled"
    tamper.insert(other.id, other.version + 1, topic, last)
    assert problems(recorded, tmp_path) == [(other.id.hex, other.version + 1, "inserted")]


def test_cutting_off_the_newest_events_is_caught_by_the_sealed_heads(
    recorded: Engine, store_env: dict[str, str], tmp_path: Path
) -> None:
    _, heads = verify_store(recorded.recorder, tmp_path)
    seal(tmp_path, heads)
    grass = recorded.initiative("grass")
    tamper = Tamper(store_env)
    for version in (grass.version, grass.version - 1):  # events and their links, together
        tamper.delete(grass.id, version, with_link=True)
    assert problems(recorded, tmp_path) == [(grass.id.hex, grass.version - 1, "cut off")]


def test_an_encrypted_and_compressed_store_still_verifies(tmp_path: Path) -> None:
    from adapters.store import chained

    env = chained(
        {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
            "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
            "CIPHER_KEY": "Lj5BQDtqnlHNzJkpH9J1HeJKhcENnK0MS14DY7Fm1Gs=",
            "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
        }
    )
    with Engine(env=env, clock=lambda: TODAY) as engine:
        run = runner(engine)
        programme(run)
        initiative_at(run, Stage.CONSORTIUM_FORMED)
        assert b"broker-anna" not in Tamper(env).state(engine.initiative("grass").id, 2)
        assert problems(engine, tmp_path) == []
        grass = engine.initiative("grass").id
        tamper = Tamper(env)
        tamper.set_state(grass, 2, tamper.state(grass, 2)[:-1] + b"\x00")
        assert problems(engine, tmp_path) == [(grass.hex, 2, "altered")]


# -- exports, checked offline ---------------------------------------------------------


def export_of(recorded: Engine, home: Path, out: Path) -> str:
    from adapters.audit.export import export_record
    from adapters.audit.keys import public_text, signing_key

    export_record(recorded, home, out)
    return public_text(signing_key(home))


def test_an_untouched_export_checks_offline(recorded: Engine, tmp_path: Path) -> None:
    key = export_of(recorded, tmp_path, tmp_path / "export.jsonl")
    checked = check_export(tmp_path / "export.jsonl", key)
    assert (checked.ok, checked.events, checked.aggregates) == (
        True,
        recorded.recorder.max_notification_id(),
        4,
    )


@pytest.mark.parametrize("where", [0.1, 0.5, 0.99])
def test_an_export_altered_by_one_byte_fails_the_check(
    recorded: Engine, tmp_path: Path, where: float
) -> None:
    path = tmp_path / "export.jsonl"
    key = export_of(recorded, tmp_path, path)
    data = bytearray(path.read_bytes())
    position = int(len(data) * where)
    data[position] = ord("A") if data[position] != ord("A") else ord("B")
    path.write_bytes(bytes(data))
    assert not check_export(path, key).ok


def test_an_export_checked_with_another_key_fails(recorded: Engine, tmp_path: Path) -> None:
    from adapters.audit.keys import public_text, signing_key

    export_of(recorded, tmp_path, tmp_path / "export.jsonl")
    stranger = public_text(signing_key(tmp_path / "elsewhere"))
    checked = check_export(tmp_path / "export.jsonl", stranger)
    assert checked.problems == ["the signature does not match this public key"]


# -- the record as it stood -----------------------------------------------------------------


def test_as_of_recorded_and_as_of_effective_differ_for_history_entered_late(
    stored_engine: Engine, read_store: ReadStore
) -> None:
    from adapters.audit.records import as_of

    at_stage(stored_engine, Stage.CONSORTIUM_FORMED, effective="2016-03-01")  # entered today
    Runner(stored_engine, read_store).catch_up()
    by_effective = as_of(stored_engine, read_store, "grass", at=date(2017, 1, 1), by="effective")
    by_recorded = as_of(stored_engine, read_store, "grass", at=date(2017, 1, 1), by="recorded")
    assert by_effective is not None
    assert by_effective.stage == "consortium_formed"
    assert by_recorded is None, "in 2017 nothing of it had been recorded yet"


def test_as_of_a_version_is_the_initiative_exactly_as_it_stood(
    stored_engine: Engine, read_store: ReadStore
) -> None:
    from adapters.audit.records import as_of

    run = at_stage(stored_engine, Stage.EXPERT_SCAN, effective="2016-03-01")
    run("stall", initiative_id="grass", reason="waiting", effective="2016-04-01")
    state = as_of(stored_engine, read_store, "grass", version=3)
    assert state is not None
    assert (state.version, state.status, list(state.options)) == (3, "active", ["fibres"])


def test_progress_as_of_counts_only_what_had_taken_effect(stored_engine: Engine) -> None:
    from adapters.audit.records import progress_as_of

    run = runner(stored_engine)
    programme(run)
    run(
        "set-target",
        **a_target("chains", "chains", 20),
        measure="consortia_formed",
        actor="board",
        effective="2015-06-01",
    )
    initiative_at(run, Stage.CONSORTIUM_FORMED, initiative_id="early", effective="2016-03-01")
    initiative_at(run, Stage.CONSORTIUM_FORMED, initiative_id="late", effective="2019-03-01")
    (in_2017,) = progress_as_of(stored_engine, "mra", date(2017, 1, 1))
    (in_2020,) = progress_as_of(stored_engine, "mra", date(2020, 1, 1))
    assert (in_2017.current, in_2020.current) == (1, 2)


# -- what if --------------------------------------------------------------------------------


def file_digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


@pytest.fixture
def demo_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "adapters.cli",
            "--home",
            str(home),
            "demo",
            "--fresh",
            "--scenario",
            "first-steps",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return home


def kringloop(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", "--home", str(home), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "KRINGLOOP_ACTOR": "auditor-ann"},
    )


def test_what_if_leaves_the_live_store_and_read_models_untouched(demo_home: Path) -> None:
    before = file_digests(demo_home)
    done = kringloop(
        demo_home,
        "audit",
        "what-if",
        "timber-reuse",
        "--from-version",
        "10",
        "--replace-with",
        '{"command": "waive-precondition", "precondition": '
        '"municipal-offtake", "actor": "broker-bas", "reason": "what if waived",'
        ' "effective": "2018-01-15"}',
        "--json",
    )
    assert done.returncode == 0, done.stderr
    assert file_digests(demo_home) == before
    import json

    report = json.loads(done.stdout)
    assert report["replayed"][0]["outcome"] == "replaced"
    preconditions = report["state_changes"]["preconditions"]
    assert preconditions["live"]["municipal-offtake"]["status"] == "dropped"
    assert preconditions["what_if"]["municipal-offtake"]["status"] == "waived"


def test_what_if_shows_decisions_the_current_rules_refuse(demo_home: Path) -> None:
    import json

    done = kringloop(
        demo_home,
        "audit",
        "what-if",
        "roadside-grass-insulation",
        "--from-version",
        "14",
        "--remove",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    outcomes = {r["step"]: r["outcome"] for r in report["replayed"]}
    assert outcomes["ConsortiumFormed"].startswith("refused: cannot form consortium")
    assert report["progress_changes"]["chains-redesigned"] == {"live": 2.0, "what_if": 1.0}
