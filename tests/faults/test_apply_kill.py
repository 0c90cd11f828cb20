"""`kringloop apply` of a big JSON-lines file, SIGKILLed inside one of its batch's append
transactions, then run again: it resumes (the committed lines replay, the rest apply),
every batch was all or nothing, the read models equal a rebuild and `kringloop audit
verify` passes. Every other line carries no command id: apply gives it one from its
content, so those resume too."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from adapters.settings import Settings
from adapters.store import Stores
from tests.faults.invariants import (
    assert_nothing_lost_or_doubled,
    assert_read_models_equal_a_rebuild,
    command_ids,
)
from tests.faults.killing import inherited
from tests.scenario import programme_with_scaled_up

BATCH = 500  # adapters.commanding.apply_lines: one transaction per batch of lines
INITIATIVES = 110
WAIT = 120.0


def commands_file(path: Path) -> list[str]:
    """A programme and its initiatives taken to scale-up, one command per line, every other
    one with a command id of its own; returns those ids."""
    lines: list[dict[str, Any]] = []

    def record(command: str, **fields: Any) -> Any:
        fields.setdefault("actor", "broker-anna")
        fields.setdefault("reason", "decided in the broker team meeting")
        if len(lines) % 2:
            fields["command_id"] = f"line-{len(lines) + 1}"
        lines.append({"command": command, **fields})

    programme_with_scaled_up(record, INITIATIVES)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return [line["command_id"] for line in lines if "command_id" in line]


def kringloop(home: Path, *arguments: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "--home", str(home), *arguments],
        env={**inherited(), "PYTHONPATH": os.getcwd()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def answer(process: subprocess.Popen[bytes]) -> tuple[int, dict[str, Any]]:
    out, err = process.communicate(timeout=WAIT)
    assert out, err.decode()[-3000:]
    return process.returncode, json.loads(out)


def events(path: Path) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(path, timeout=10) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM stored_events").fetchone()[0])
        except sqlite3.OperationalError:  # the table is not there yet
            return 0


def writing(path: Path) -> bool:
    """Does another connection hold the write lock: is an append's transaction open?"""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True
    else:
        conn.execute("ROLLBACK")
        return False
    finally:
        conn.close()


def kill_inside_an_append(apply: subprocess.Popen[bytes], store: Path) -> None:
    """Once the first batch is in: stop the process, look, and kill it if it stands inside
    an append's transaction; else let it run a moment and look again."""
    deadline = time.monotonic() + WAIT
    while events(store) < BATCH:
        assert apply.poll() is None, "apply ended before its first batch was in"
        assert time.monotonic() < deadline, "apply never committed its first batch"
        time.sleep(0.01)
    while True:
        assert apply.poll() is None, "apply ended before it was caught inside an append"
        assert time.monotonic() < deadline, "apply was never caught inside an append"
        apply.send_signal(signal.SIGSTOP)
        if writing(store):
            apply.send_signal(signal.SIGKILL)
            apply.wait(timeout=30)
            return
        apply.send_signal(signal.SIGCONT)
        time.sleep(0.002)


@pytest.mark.slow
def test_apply_killed_inside_a_batch_then_run_again_resumes_exactly_once(tmp_path: Path) -> None:
    home, source = tmp_path / "home", tmp_path / "commands.jsonl"
    ids = commands_file(source)
    lines = len(source.read_text().splitlines())
    assert lines > 4 * BATCH
    store = home / "events.sqlite"

    first = kringloop(home, "apply", str(source), "--json")
    try:
        kill_inside_an_append(first, store)
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate(timeout=30)
    assert first.returncode == -signal.SIGKILL
    committed = events(store)
    assert committed % BATCH == 0, "each batch is all or nothing"
    assert BATCH <= committed < lines, "killed part way"

    code, summary = answer(kringloop(home, "apply", str(source), "--json"))
    assert code == 0, summary
    assert (summary["already_applied"], summary["applied"]) == (committed, lines - committed)

    code, verified = answer(kringloop(home, "audit", "verify", "--json"))
    assert (code, verified["ok"], verified["events_checked"]) == (0, True, lines)

    stores = Stores(Settings(home=home, database_url=None))
    try:
        recorded = command_ids(stores.engine)
        assert (recorded.total(), max(recorded.values())) == (lines, 1), "every line once"
        assert_nothing_lost_or_doubled(stores.engine, ids)
        assert_read_models_equal_a_rebuild(stores.engine, stores.read_store)
    finally:
        stores.close()
