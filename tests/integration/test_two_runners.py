"""Two runners started for the same read models at once: every batch is applied by exactly
one of them, and the result equals a rebuild."""

from __future__ import annotations

from multiprocessing.synchronize import Barrier

import pytest

from domain.engine import Engine
from projections.runner import Runner
from projections.store import ReadStore
from tests.integration.test_projection_properties import snapshot
from tests.processes import barrier, spawned
from tests.scenario import scaled_up


def run_runner(env: dict[str, str], url: str, schema: str | None, start: Barrier) -> int:
    reads = ReadStore(url, schema)
    engine = Engine(env={**env, "CREATE_TABLE": "n"})
    start.wait()
    applied = Runner(engine, reads, batch_size=20).catch_up()
    engine.close()
    reads.close()
    return applied


@pytest.mark.slow
def test_two_runners_at_once_apply_each_event_once(
    stored_engine: Engine, store_env: dict[str, str], read_store: ReadStore
) -> None:
    scaled_up(stored_engine, 10)
    head = stored_engine.recorder.max_notification_id()
    start = barrier(2)
    arguments = [(store_env, read_store.url, read_store.schema, start)] * 2
    with spawned(run_runner, arguments) as applied:
        pass
    assert sum(applied) == head, f"each event applied once between them: {applied}"
    kept_up = snapshot(read_store)
    assert len(kept_up["decisions"]) == head
    Runner(stored_engine, read_store).rebuild()
    assert snapshot(read_store) == kept_up
