"""The engine on real stores: SQLite files and PostgreSQL, the same behaviour on both."""

from __future__ import annotations

from typing import Any

import pytest

from domain.commands.catalogue import parse_command
from domain.engine import Engine
from domain.errors import WrongStageError
from domain.initiative import Initiative
from domain.values import Stage
from tests.conftest import TODAY, runner
from tests.scenario import at_stage


def reopen(env: dict[str, str]) -> Engine:
    return Engine(env=env, clock=lambda: TODAY)


def test_a_whole_lifecycle_survives_reopening_the_store(
    stored_engine: Engine, store_env: dict[str, str]
) -> None:
    at_stage(stored_engine, Stage.SCALED_UP)
    with reopen(store_env) as again:
        initiative = again.initiative("grass")
        assert initiative.stage == Stage.SCALED_UP
        assert vars(initiative) == vars(stored_engine.initiative("grass"))
        assert [type(e).__name__ for e in again.history(initiative)][:2] == [
            "Proposed",
            "ExpertScanStarted",
        ]


def test_a_long_history_loads_from_a_snapshot_equal_to_full_replay(
    stored_engine: Engine, store_env: dict[str, str]
) -> None:
    run = at_stage(stored_engine, Stage.CONSORTIUM_FORMED)
    for year in range(2000, 2100):
        run("report-impact", initiative_id="grass", period=year, jobs_fte=year - 1999)
        run("report-impact", initiative_id="grass", period=year, jobs_fte=year - 1998)
    with reopen(store_env) as again:
        initiative = again.initiative("grass")
        assert again.snapshots is not None
        assert list(again.snapshots.get(initiative.id, desc=True, limit=1))
        replayed: Any = None
        for event in again.events.get(initiative.id):
            replayed = event.mutate(replayed)
        assert vars(replayed) | {"_pending_events": []} == vars(initiative) | {
            "_pending_events": []
        }
        assert initiative.impact["2099"] == {"jobs_fte": 101.0}


def test_a_command_id_is_recognised_by_another_process(
    stored_engine: Engine, store_env: dict[str, str]
) -> None:
    at_stage(stored_engine, Stage.PROPOSED)
    step = parse_command(
        {
            "command": "start-expert-scan",
            "initiative_id": "grass",
            "actor": "broker-anna",
            "reason": "r",
            "command_id": "scan-1",
            "effective": "2016-01-02",
        }
    )
    first = stored_engine.execute(step)
    with reopen(store_env) as other:
        again = other.execute(step)
    assert again.replayed
    assert again.version == first.version


def interfere_before_first_save(
    engine: Engine, store_env: dict[str, str], command: dict[str, Any]
) -> None:
    """Let another writer record ``command`` between this engine's decision and its save."""
    original = engine.save
    state = {"done": False}

    def save(*objs: Any, **kwargs: Any) -> Any:
        if not state["done"]:
            state["done"] = True
            with reopen(store_env) as other:
                runner(other)(**command)
        return original(*objs, **kwargs)

    engine.save = save  # type: ignore[method-assign]


def test_a_stale_write_that_still_holds_is_decided_again_and_nothing_is_lost(
    stored_engine: Engine, store_env: dict[str, str]
) -> None:
    run = at_stage(stored_engine, Stage.CONSORTIUM_FORMED)
    interfere_before_first_save(
        stored_engine,
        store_env,
        {"command": "report-impact", "initiative_id": "grass", "period": 2018, "jobs_fte": 3},
    )
    run("report-impact", initiative_id="grass", period=2019, jobs_fte=5)
    with reopen(store_env) as again:
        assert again.initiative("grass").impact == {
            "2018": {"jobs_fte": 3.0},
            "2019": {"jobs_fte": 5.0},
        }


def test_a_stale_write_that_no_longer_holds_is_refused_and_appends_nothing(
    stored_engine: Engine, store_env: dict[str, str]
) -> None:
    run = at_stage(stored_engine, Stage.CONSORTIUM_FORMED)
    interfere_before_first_save(
        stored_engine,
        store_env,
        {"command": "withdraw-board", "initiative_id": "grass", "handover_note": "by the other"},
    )
    with pytest.raises(WrongStageError, match="is at board withdrawn"):
        run("withdraw-board", initiative_id="grass", handover_note="by me")
    with reopen(store_env) as again:
        initiative = again.initiative("grass")
        assert initiative.handover_note == "by the other"
        assert [type(e) for e in again.history(initiative)].count(Initiative.BoardWithdrew) == 1
