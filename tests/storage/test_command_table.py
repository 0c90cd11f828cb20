"""Which command produced which version lives in the store's command table, beside the
events: a repeated command is still answered by its first outcome, across restarts and on
a store written before the table existed, and snapshots no longer grow with the history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from eventsourcing.domain import Snapshot
from psycopg.sql import SQL

from domain.commands.catalogue import Command, parse_command
from domain.engine import Engine
from domain.errors import CommandIdReusedError, NotFoundError
from domain.initiative import Initiative
from domain.values import Stage
from tests.conftest import TODAY, runner
from tests.scenario import initiative_at, programme

LONG = 1_050  # events on the initiative: past twenty snapshots


def report(k: int, **change: Any) -> Command:
    return parse_command(
        {
            "command": "report-impact",
            "command_id": f"report-{k}",
            "initiative_id": "grass",
            "actor": "broker-anna",
            "reason": "yearly figures",
            "period": 2000 + k % 20,
            "jobs_fte": float(k % 7),
            **change,
        }
    )


@pytest.fixture
def formed(store_env: dict[str, str]) -> Iterator[Engine]:
    with Engine(env=store_env, clock=lambda: TODAY) as engine:
        run = runner(engine)
        programme(run)
        initiative_at(run, Stage.SCALED_UP)
        yield engine


def grow(engine: Engine, until: int) -> None:
    """Impact reports on grass until it holds ``until`` events, in batches."""
    start = engine.initiative("grass").version
    commands = [report(k) for k in range(start, until)]
    for i in range(0, len(commands), 500):
        assert engine.execute_batch(commands[i : i + 500]).refusal is None


def latest_snapshot(engine: Engine) -> tuple[int, dict[str, Any]]:
    """The version and the aggregate state of grass's latest snapshot, as stored."""
    assert engine.snapshots is not None
    grass = Initiative.create_id("grass")
    (stored,) = engine.snapshots.recorder.select_events(grass, desc=True, limit=1)
    return stored.originator_version, dict(json.loads(stored.state)["state"])


def test_a_long_history_keeps_its_snapshot_small(formed: Engine) -> None:
    grow(formed, 100)
    _, early = latest_snapshot(formed)
    grow(formed, LONG)
    version, late = latest_snapshot(formed)
    assert version >= 1_000
    assert "applied_commands" not in late
    # the state holds what the initiative is, not its history: no bigger after 950 more
    # reports than after 50 (the reports cycle through the same twenty periods)
    assert len(json.dumps(late)) <= len(json.dumps(early)) + 100


def test_a_repeated_command_is_answered_after_a_restart(store_env: dict[str, str]) -> None:
    with Engine(env=store_env, clock=lambda: TODAY) as engine:
        run = runner(engine)
        programme(run)
        initiative_at(run, Stage.SCALED_UP)
        first = engine.execute(report(1))
        grow(engine, 120)  # past two snapshots: the first report is in none of them
    with Engine(env=store_env, clock=lambda: TODAY) as again:
        before = again.recorder.max_notification_id()
        replayed = again.execute(report(1))  # it would be accepted anew: the table refuses
        assert (replayed.version, replayed.replayed) == (first.version, True)
        with pytest.raises(CommandIdReusedError, match="'report-1' was already used"):
            again.execute(report(1, jobs_fte=99.0))
        assert again.recorder.max_notification_id() == before


def test_a_correction_names_a_decision_long_before_the_snapshot(formed: Engine) -> None:
    grow(formed, 180)
    run = runner(formed)
    run("correct-decision", initiative_id="grass", corrects="report-60", corrected_reason="typo")
    assert formed.initiative("grass").corrections["report-60"][0]["changes"] == {"reason": "typo"}
    with pytest.raises(NotFoundError, match="no decision on initiative 'grass'"):
        run("correct-decision", initiative_id="grass", corrects="ghost", corrected_reason="x")


def test_a_batch_corrects_a_decision_taken_earlier_in_it(formed: Engine) -> None:
    correction = parse_command(
        {
            "command": "correct-decision",
            "initiative_id": "grass",
            "actor": "broker-anna",
            "reason": "typo",
            "corrects": "report-7",
            "corrected_reason": "yearly figures, audited",
        }
    )
    result = formed.execute_batch([report(7), correction, report(7)])
    assert result.refusal is None
    assert [o.replayed for o in result.outcomes] == [False, False, True]
    assert result.outcomes[2].version == result.outcomes[0].version


def written_the_old_way(engine: Engine) -> None:
    """Make the store as the previous version left it: no command table rows, and the
    latest snapshot with the aggregate's own index of applied commands in its state."""
    recorder: Any = engine.recorder
    with recorder.datastore.transaction(commit=True) as cursor:
        if hasattr(recorder, "command_table"):  # PostgreSQL
            cursor.execute(SQL("DELETE FROM {}.{}").format(*recorder.command_table))
        else:
            cursor.execute("DELETE FROM kringloop_commands")
    grass = engine.initiative("grass")
    index = {
        e.decision.command_id: [e.originator_version, e.decision.digest]
        for e in engine.history(grass)
    }
    state = {k: v for k, v in vars(grass).items() if k not in ("_id", "_version")}
    state.pop("_pending_events")
    state.update(applied_commands=index, class_version=2)  # Initiative's version then
    assert engine.snapshots is not None
    engine.snapshots.put(
        [
            Snapshot(
                originator_id=grass.id,
                originator_version=grass.version,
                timestamp=Snapshot.create_timestamp(),
                topic="domain.initiative:Initiative",
                state=state,
            )
        ]
    )


def test_a_store_written_before_the_command_table_still_answers_repeats(
    store_env: dict[str, str],
) -> None:
    with Engine(env=store_env, clock=lambda: TODAY) as engine:
        run = runner(engine)
        programme(run)
        initiative_at(run, Stage.SCALED_UP)
        first = engine.execute(report(1))
        grow(engine, 75)
        engine.execute(report(75))  # version 76: no snapshot of the engine's own there
        written_the_old_way(engine)
        assert latest_snapshot(engine)[1]["applied_commands"]
    with Engine(env=store_env, clock=lambda: TODAY) as again:
        grass = again.initiative("grass")  # from the old snapshot
        assert grass.version == 76
        assert not hasattr(grass, "applied_commands")
        before = again.recorder.max_notification_id()
        replayed = again.execute(report(1))
        assert (replayed.version, replayed.replayed) == (first.version, True)
        with pytest.raises(CommandIdReusedError):
            again.execute(report(75, jobs_fte=99.0))
        assert again.recorder.max_notification_id() == before
        assert again.execute(report(76)).version == 77  # and it goes on


def test_a_what_if_decides_a_correction_again_only_while_its_decision_stands(
    memory_engine: Engine,
) -> None:
    from adapters.audit.records import what_if

    run = runner(memory_engine)
    programme(run)
    initiative_at(run, Stage.SCALED_UP)
    reported = memory_engine.execute(report(1)).version
    memory_engine.execute(report(2))
    run("correct-decision", initiative_id="grass", corrects="report-1", corrected_reason="typo")

    def outcome_of_the_correction(from_version: int) -> str:
        replayed = what_if(memory_engine, "grass", from_version, None).replayed
        return next(r.outcome for r in replayed if r.step == "DecisionCorrected")

    assert outcome_of_the_correction(reported + 1) == "kept"  # report-2 removed
    refused = outcome_of_the_correction(reported)  # report-1 itself removed
    assert refused.startswith("refused: ")
    assert "no decision on initiative 'grass'" in refused
