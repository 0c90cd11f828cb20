"""A rebuild killed with SIGKILL while it fills the fresh tables, and while it swaps them
in: the live read models stay as they were and keep up; the next rebuild clears the
leftovers and equals them; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from domain.engine import Engine
from projections.runner import Runner
from projections.store import REBUILD_MARK, ReadStore
from tests.faults.invariants import assert_chain_intact, assert_read_models_equal_a_rebuild
from tests.faults.killing import child
from tests.integration.test_projection_properties import snapshot
from tests.scenario import scaled_up


def leftovers(store: ReadStore) -> list[str]:
    return [n for n in inspect(store.engine).get_table_names() if REBUILD_MARK in n]


@pytest.mark.slow
def test_a_rebuild_killed_filling_or_swapping_leaves_the_live_read_models_whole(
    stored_engine: Engine, store_env: dict[str, str], read_store: ReadStore, tmp_path: Path
) -> None:
    run = scaled_up(stored_engine, 4)
    live = Runner(stored_engine, read_store)
    live.catch_up()
    before = snapshot(read_store)
    stores = {"env": store_env, "url": read_store.url, "schema": read_store.schema, "batch": 20}

    # filling: the second batch into the fresh tables written, not committed
    # swapping: three live tables dropped and replaced, the swap not committed
    for moment, nth in (("filling", 2), ("swapping", 3)):
        marker = tmp_path / moment
        halt = {"at": moment, "n": nth, "marker": str(marker)}
        with child("rebuild", {**stores, "halt": halt}, tmp_path) as rebuilding:
            rebuilding.reach(marker, f"the rebuild's {moment}")
            rebuilding.kill()
        assert snapshot(read_store) == before, f"killed while {moment}: the live tables untouched"
        assert live.position() == live.head()

    assert leftovers(read_store), "the killed rebuild's copies are still there"
    run("report-impact", initiative_id="grass-0", period=2020, jobs_fte=12)
    assert live.catch_up() == 1, "the live read models keep up after the kills"
    assert_read_models_equal_a_rebuild(stored_engine, read_store)
    assert_chain_intact(stored_engine, tmp_path)
    assert leftovers(read_store) == [], "the next rebuild cleared them"
