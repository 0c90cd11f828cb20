"""A runner killed with SIGKILL in the middle of a batch, then started again: no event
applied twice or skipped, and the read models equal a rebuild."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from domain.engine import Engine
from projections.runner import Runner
from projections.store import ReadStore
from tests.integration.test_projection_properties import snapshot
from tests.scenario import scaled_up

BATCH = 20
KILL_IN_BATCH = 5

CHILD = """
import json, sys, time
from pathlib import Path
from domain.engine import Engine
from projections.runner import Runner
from projections.store import ReadStore
from projections.working_set import WorkingSet

env, url, schema, marker, batch, kill_in = json.loads(sys.argv[1])
flushed = {"n": 0}
original = WorkingSet.flush

def flush(self, conn):
    original(self, conn)
    flushed["n"] += 1
    if flushed["n"] == kill_in:
        Path(marker).write_text("rows written, not committed")
        time.sleep(60)  # the parent kills us here, inside the transaction

WorkingSet.flush = flush
Runner(Engine(env=env), ReadStore(url, schema), batch_size=batch).catch_up()
"""


def read_store_address(store: ReadStore) -> tuple[str, str | None]:
    return store.url, store.schema


@pytest.mark.slow
def test_a_runner_killed_mid_batch_resumes_exactly_once(
    stored_engine: Engine, store_env: dict[str, str], read_store: ReadStore, tmp_path: Path
) -> None:
    scaled_up(stored_engine, 8)
    head = stored_engine.recorder.max_notification_id()
    assert head is not None
    assert head > BATCH * (KILL_IN_BATCH + 1)

    marker = tmp_path / "in-batch"
    url, schema = read_store_address(read_store)
    arguments = json.dumps([store_env, url, schema, str(marker), BATCH, KILL_IN_BATCH])
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, arguments], env={**os.environ, "PYTHONPATH": os.getcwd()}
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert child.poll() is None, "the runner ended before the kill"
        assert time.monotonic() < deadline, "the runner never reached the batch"
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)

    resumed = Runner(stored_engine, read_store, batch_size=BATCH)
    assert resumed.position() == BATCH * (KILL_IN_BATCH - 1), "the killed batch left no trace"
    assert resumed.catch_up() == head - BATCH * (KILL_IN_BATCH - 1)
    kept_up: dict[str, Any] = snapshot(read_store)
    assert len(kept_up["decisions"]) == head, "every event once in the decision log"

    Runner(stored_engine, read_store).rebuild()
    assert snapshot(read_store) == kept_up
