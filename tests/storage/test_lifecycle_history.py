"""Rules are checked when a decision is taken, not when history is replayed; a consequence
is recorded in the event, and an old event without it is upcast and projected the same."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from typing import Any

import pytest

from domain import initiative as lifecycle
from domain.engine import Engine
from domain.initiative import Initiative
from domain.values import Stage
from projections.queries import list_initiatives, register
from projections.runner import Runner
from tests.conftest import TODAY, runner
from tests.scenario import initiative_at, programme
from tests.storage.test_evolution import load_fixture


def test_a_history_that_todays_rules_would_refuse_still_loads(
    store_env: dict[str, str], read_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Engine(env=store_env, clock=lambda: TODAY) as engine:
        run = runner(engine)
        programme(run)
        initiative_at(run, Stage.SCALED_UP)
        # once upon a time a scaled-up initiative could be stalled: record it under that rule
        with monkeypatch.context() as then:
            then.setitem(
                lifecycle.LIFECYCLE, "stall", replace(lifecycle.LIFECYCLE["stall"], at=tuple(Stage))
            )
            run("stall", initiative_id="grass", reason="the plant burnt down")
        stall = next(s for s in engine.initiative("grass").allowed_steps() if s.step == "stall")
        assert not stall.allowed
        assert "has scaled up" in stall.why_not

    with Engine(env=store_env, clock=lambda: TODAY) as again:  # nothing cached: all replayed
        grass = again.initiative("grass")
        assert (grass.stage, grass.status) == ("scaled_up", "stalled")
        assert grass.status_reason == "the plant burnt down"
        offered = {s.step for s in grass.allowed_steps() if s.allowed}
        assert "resume" in offered
        assert "stall" not in offered
        Runner(again, read_store).catch_up()
    listed = {i.id: i for i in list_initiatives(read_store, today=TODAY)}
    assert listed["grass"].status == "stalled"


def test_a_fall_back_records_the_preconditions_it_dropped(memory_engine: Engine) -> None:
    run = runner(memory_engine)
    programme(run)
    initiative_at(run, Stage.PRECONDITION_FULFILMENT)
    run("fulfil-precondition", initiative_id="grass", precondition="volume", evidence=["c.pdf"])
    run("fall-back", initiative_id="grass", to_stage="market_consultation")
    grass = memory_engine.initiative("grass")
    fell = [e for e in memory_engine.history(grass) if isinstance(e, Initiative.FellBack)]
    assert [e.dropped for e in fell] == [["offtake"]]  # the open one; the fulfilled one stays
    assert grass.preconditions["offtake"]["status"] == "dropped"
    assert grass.preconditions["volume"]["status"] == "fulfilled"


def test_a_version_1_fall_back_is_upcast_and_projects_what_the_aggregate_holds(
    stored_engine: Engine, read_store: Any
) -> None:
    load_fixture(stored_engine)
    timber = stored_engine.initiative("timber-reuse")
    fell = [e for e in stored_engine.history(timber) if isinstance(e, Initiative.FellBack)]
    assert fell
    assert all(e.dropped is None for e in fell)
    dropped = {n for n, p in timber.preconditions.items() if p["status"] == "dropped"}
    assert dropped, "the fixture's fall-back dropped a precondition"

    Runner(stored_engine, read_store).catch_up()
    projected = {
        p.precondition: p.status for p in register(read_store, TODAY, initiative_id="timber-reuse")
    }
    assert projected == {n: p["status"] for n, p in timber.preconditions.items()}

    # a fall-back recorded now lands after the old one, at version 2, with its list
    run = runner(stored_engine)
    run("fall-back", initiative_id="timber-reuse", to_stage="expert_scan", actor="broker-bas")
    newest = stored_engine.recorder.select_events(timber.id, desc=True, limit=1)[0]
    assert json.loads(newest.state)["class_version"] == 2
    assert stored_engine.initiative("timber-reuse").stage == "expert_scan"


def test_a_snapshot_taken_before_the_stage_path_was_kept_still_loads(tmp_path: Any) -> None:
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(tmp_path / "events.sqlite"),
    }
    with Engine(env=env, clock=lambda: TODAY) as engine:
        run = runner(engine)
        programme(run)
        initiative_at(run, Stage.PRECONDITION_FULFILMENT)
        grass = engine.initiative("grass")
        engine.take_snapshot(grass.id)
        (stored,) = engine.snapshots.recorder.select_events(grass.id, desc=True, limit=1)
        snapshot = json.loads(stored.state)
        for added in ("path", "corrections", "class_version"):  # as version-1 code stored it
            snapshot["state"].pop(added)
        with sqlite3.connect(env["SQLITE_DBNAME"]) as db:
            changed = db.execute(
                "UPDATE stored_snapshots SET state = ? WHERE originator_id = ?",
                (json.dumps(snapshot).encode(), stored.originator_id.hex),
            )
            assert changed.rowcount == 1
    with Engine(env=env, clock=lambda: TODAY) as again:
        grass = again.initiative("grass")
        assert grass.path == [["precondition_fulfilment", grass.stage_since]]
        assert grass.corrections == {}
        runner(again)("stall", initiative_id="grass", reason="waiting for the permit")
        assert again.initiative("grass").status == "stalled"
