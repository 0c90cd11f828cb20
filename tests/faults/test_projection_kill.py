"""A projection runner killed with SIGKILL inside a batch while a rival runner waits on its
lock: the rival goes on from the last committed batch, every event is applied once, and
the read models equal a rebuild; on SQLite and PostgreSQL. (A runner killed alone and
restarted: tests/integration/test_runner_crash.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from domain.engine import Engine
from projections.runner import Runner
from projections.store import ReadStore
from tests.faults.invariants import assert_chain_intact, assert_read_models_equal_a_rebuild
from tests.faults.killing import child
from tests.scenario import scaled_up

BATCH = 20
HELD_BATCH = 3


def waiting_on_a_lock(store: ReadStore) -> bool:
    """On PostgreSQL the rival's wait shows: a session of this database waiting on a lock."""
    if store.dialect != "postgresql":
        return True  # SQLite's busy wait is invisible from outside: the rival may not be there yet
    with store.engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar_one()
    return bool(waiting)


@pytest.mark.slow
def test_a_runner_killed_holding_a_batch_lets_its_waiting_rival_finish(
    stored_engine: Engine, store_env: dict[str, str], read_store: ReadStore, tmp_path: Path
) -> None:
    scaled_up(stored_engine, 6)
    head = stored_engine.recorder.max_notification_id() or 0
    assert head > BATCH * (HELD_BATCH + 1)
    held, started = tmp_path / "held", tmp_path / "rival-started"
    stores = {"env": store_env, "url": read_store.url, "schema": read_store.schema, "batch": BATCH}

    with child(
        "catch-up", {**stores, "halt": {"n": HELD_BATCH, "marker": str(held)}}, tmp_path
    ) as first:
        first.reach(held, f"its batch {HELD_BATCH}, rows written and the position row locked")
        with child("catch-up", {**stores, "started": str(started)}, tmp_path) as rival:
            rival.reach(started, "its catch-up")
            rival.until(lambda: waiting_on_a_lock(read_store), "the position lock")
            first.kill()
            answer = rival.result()

    committed = BATCH * (HELD_BATCH - 1)
    assert answer["applied"] == head - committed, "the rival applied the killed batch and the rest"
    assert Runner(stored_engine, read_store).position() == head
    assert_read_models_equal_a_rebuild(stored_engine, read_store)
    assert_chain_intact(stored_engine, tmp_path)
