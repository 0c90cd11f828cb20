"""Two runners started for the same read models at once: every batch is applied by exactly
one of them, and the result equals a rebuild."""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier
from typing import Any

import pytest

from domain.engine import Engine
from domain.values import Stage
from projections.runner import Runner
from projections.store import ReadStore
from tests.conftest import runner
from tests.integration.test_projection_properties import snapshot
from tests.scenario import initiative_at, programme


def run_runner(
    env: dict[str, str], url: str, schema: str | None, start: Barrier, results: Any
) -> None:
    reads = ReadStore(url, schema)
    engine = Engine(env=env)
    start.wait()
    results.put(Runner(engine, reads, batch_size=20).catch_up())
    engine.close()
    reads.close()


@pytest.mark.slow
def test_two_runners_at_once_apply_each_event_once(
    stored_engine: Engine, store_env: dict[str, str], read_store: ReadStore
) -> None:
    run = runner(stored_engine)
    programme(run)
    for n in range(10):
        initiative_at(run, Stage.SCALED_UP, initiative_id=f"grass-{n}")
    head = stored_engine.recorder.max_notification_id()
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(2), context.Queue()
    runners = [
        context.Process(
            target=run_runner, args=(store_env, read_store.url, read_store.schema, start, results)
        )
        for _ in range(2)
    ]
    for p in runners:
        p.start()
    applied = [results.get(timeout=120) for _ in runners]
    for p in runners:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert sum(applied) == head, f"each event applied once between them: {applied}"
    kept_up = snapshot(read_store)
    assert len(kept_up["decisions"]) == head
    Runner(stored_engine, read_store).rebuild()
    assert snapshot(read_store) == kept_up
