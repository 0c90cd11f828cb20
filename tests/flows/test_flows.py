"""Every flow end to end on a real Prefect and a real store."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from domain.engine import Engine
from domain.values import Stage
from flows import runtime
from flows.audit_verify import audit_verify
from flows.deadlines import escalate_deadlines
from flows.projection_catch_up import projection_catch_up
from flows.scale_up_check import scale_up_check
from projections import queries
from tests.conftest import TODAY, Run
from tests.flows.conftest import close_grass
from tests.scenario import (
    PROGRAMME,
    SCHEDULERS,
    checked_programme,
    initiative_at,
    programme,
    withdrawn,
)


def summaries() -> dict[str, Any]:
    runtime.runner().catch_up()
    return {s.id: s for s in queries.list_initiatives(runtime.read_store(), TODAY)}


@pytest.fixture
def scheduled(run: Run) -> Run:
    """A programme whose scheduled checks hold a mandate on every stream."""
    assert SCHEDULERS == (runtime.SCHEDULER, runtime.DEADLINES)
    checked_programme(run)
    return run


def test_the_scale_up_check_assesses_and_flags(scheduled: Run) -> None:
    withdrawn(scheduled, "grass", tonnes=50_000, jobs=25)
    withdrawn(scheduled, "small", tonnes=2_000, jobs=1)
    withdrawn(scheduled, "stuck", tonnes=20_000, jobs=10)
    scheduled(
        "stall",
        initiative_id="stuck",
        reason="site permit revoked",
        effective="2024-02-01",
    )
    result = scale_up_check(programme_id=PROGRAMME, today=TODAY)
    assert (result["candidates"], result["recorded"], result["refused"]) == (3, 3, 0)
    found = summaries()
    assert (found["grass"].ready_to_scale, found["grass"].at_risk) == (True, False)
    assert (found["small"].ready_to_scale, found["small"].at_risk) == (False, False)
    assert (found["stuck"].ready_to_scale, found["stuck"].at_risk) == (False, True)
    (decision,) = queries.decision_log(
        runtime.read_store(), subject="stuck", step="scale up assessed"
    )
    assert decision.actor == runtime.SCHEDULER
    assert "NOT met: open risks: stalled since 2024-02-01" in decision.reason


def test_the_scale_up_check_does_not_call_ready_on_stale_evidence(scheduled: Run) -> None:
    withdrawn(scheduled, "grass", tonnes=50_000, jobs=25, reported="2022-10-31")  # 19 months
    scale_up_check(programme_id=PROGRAMME, today=TODAY)
    found = summaries()
    assert (found["grass"].ready_to_scale, found["grass"].at_risk) == (False, True)
    (decision,) = queries.decision_log(
        runtime.read_store(), subject="grass", step="scale up assessed"
    )
    assert "at risk: no recent impact report" in decision.reason
    assert "NOT met: latest impact report 2022-10-31, 19 months ago" in decision.reason


def test_the_scale_up_check_run_twice_on_one_day_records_one_set(
    scheduled: Run, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    withdrawn(scheduled, "grass", tonnes=50_000, jobs=25)
    withdrawn(scheduled, "small", tonnes=2_000, jobs=1)
    first = scale_up_check(programme_id=PROGRAMME, today=TODAY, page_size=1)
    assert (first["recorded"], first["already_recorded"], first["skipped"]) == (2, 0, 0)
    before = engine.recorder.max_notification_id()
    decided: list[Any] = []
    monkeypatch.setattr(engine, "execute_batch", lambda commands: decided.append(commands))
    again = scale_up_check(programme_id=PROGRAMME, today=TODAY, page_size=1)
    assert (again["candidates"], again["recorded"], again["already_recorded"]) == (2, 0, 2)
    assert again["skipped"] == 2, "the read models show both assessed today by the check"
    assert decided == [], "nothing loaded or decided again"
    assert engine.recorder.max_notification_id() == before
    monkeypatch.undo()
    engine.clock = lambda: date(2024, 6, 10)
    next_week = scale_up_check(programme_id=PROGRAMME, today=date(2024, 6, 10))
    assert (next_week["recorded"], next_week["skipped"]) == (2, 0)


def test_the_scale_up_check_assesses_what_came_after_its_last_run_the_same_day(
    scheduled: Run,
) -> None:
    withdrawn(scheduled, "grass", tonnes=50_000, jobs=25)
    scale_up_check(programme_id=PROGRAMME, today=TODAY)
    withdrawn(scheduled, "small", tonnes=2_000, jobs=1)
    scheduled(  # a broker's own assessment today is not the check's
        "assess-scale-up",
        initiative_id="small",
        ready=False,
        criteria="a first look",
        effective=TODAY.isoformat(),
    )
    again = scale_up_check(programme_id=PROGRAMME, today=TODAY)
    assert (again["recorded"], again["skipped"], again["already_recorded"]) == (1, 1, 1)
    (decision,) = queries.decision_log(
        runtime.read_store(), subject="small", step="scale up assessed", actor=runtime.SCHEDULER
    )
    assert decision.command_id == f"phase-3:small:{TODAY.isoformat()}"


def test_the_scale_up_check_refuses_to_guess_missing_criteria(run: Run) -> None:
    programme(run)
    initiative_at(run, Stage.BOARD_WITHDRAWN)
    with pytest.raises(ValueError, match="has no scale-up criteria"):
        scale_up_check(programme_id=PROGRAMME, today=TODAY)


def test_deadlines_escalate_overdue_preconditions_and_long_stalls(scheduled: Run) -> None:
    initiative_at(scheduled, Stage.PRECONDITION_FULFILMENT, initiative_id="late")
    scheduled(
        "register-precondition",
        initiative_id="late",
        precondition="permit",
        kind="permit",
        responsible="Omgevingsdienst",
        due="2017-01-01",
    )
    initiative_at(scheduled, Stage.EXPERT_SCAN, initiative_id="idle")
    scheduled("stall", initiative_id="idle", reason="no experts", effective="2016-02-01")
    result = escalate_deadlines(stalled_days=90, today=TODAY)
    assert (result["concerns"], result["recorded"]) == (2, 2)
    found = summaries()
    assert (found["late"].escalations, found["idle"].escalations) == (1, 1)
    assert escalate_deadlines(stalled_days=90, today=TODAY)["recorded"] == 0, "once a week"


def test_closing_a_consultation_registers_every_stated_precondition(run: Run) -> None:
    programme(run)
    initiative_at(run, Stage.MARKET_CONSULTATION)
    result = close_grass(
        [
            {
                "precondition": "volume",
                "kind": "guaranteed_volume",
                "responsible": "Province",
                "target_value": 50_000,
                "target_unit": "t/yr",
                "due": "2017-06-30",
            },
            {"precondition": "offtake", "kind": "offtake_quality", "responsible": "GrassFibre"},
        ]
    )
    assert result["registered"] == 2
    register = queries.register(runtime.read_store(), TODAY, initiative_id="grass")
    assert {p.precondition for p in register} == {"volume", "offtake"}


def test_a_failure_between_tasks_then_prefects_retry_writes_nothing_twice(
    run: Run, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    programme(run)
    initiative_at(run, Stage.MARKET_CONSULTATION)
    real_execute = engine.execute
    failures = {"left": 1}

    def execute(command: Any) -> Any:
        if command.command == "register-precondition" and failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("the line dropped between two tasks")
        return real_execute(command)

    monkeypatch.setattr(engine, "execute", execute)
    close_grass(
        [{"precondition": "volume", "kind": "guaranteed_volume", "responsible": "Province"}]
    )
    events = [type(e).__name__ for e in engine.history(engine.initiative("grass"))]
    assert events.count("MarketConsultationClosed") == 1
    assert events.count("PreconditionRegistered") == 1
    assert failures["left"] == 0, "the failure did happen"


def test_a_whole_flow_run_retried_records_each_step_once(
    run: Run, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With task retries off, the first step's answer is lost after its write: the flow run
    fails, Prefect retries the run, and the step is recognised by its command id."""
    from flows import close_consultation as module

    programme(run)
    initiative_at(run, Stage.MARKET_CONSULTATION)
    monkeypatch.setattr(module.close, "retries", 0)
    real_execute = engine.execute
    lost = {"left": 1}

    def execute(command: Any) -> Any:
        outcome = real_execute(command)
        if command.command == "close-consultation" and lost["left"]:
            lost["left"] -= 1
            raise ConnectionError("lost the answer after the write")
        return outcome

    monkeypatch.setattr(engine, "execute", execute)
    result = close_grass(
        [{"precondition": "volume", "kind": "guaranteed_volume", "responsible": "Province"}]
    )
    events = [type(e).__name__ for e in engine.history(engine.initiative("grass"))]
    assert lost["left"] == 0, "the first attempt did fail"
    assert events.count("MarketConsultationClosed") == 1
    assert events.count("PreconditionRegistered") == 1
    assert result["registered"] == 1


def test_projection_catch_up_brings_the_read_models_to_the_head(run: Run, engine: Engine) -> None:
    programme(run)
    initiative_at(run, Stage.EXPERT_SCAN)
    result = projection_catch_up()
    assert result["lag"] == 0
    assert result["applied"] == engine.recorder.max_notification_id()


def test_audit_verify_passes_then_fails_on_a_tampered_store(
    run: Run, home: Path, engine: Engine
) -> None:
    programme(run)
    initiative_at(run, Stage.EXPERT_SCAN)
    assert audit_verify()["ok"]
    with sqlite3.connect(home / "events.sqlite") as conn:
        conn.execute("DELETE FROM stored_events WHERE originator_version = 2")
    with pytest.raises(RuntimeError, match="missing"):
        audit_verify()
    results = sorted((home / "audit" / "verify").iterdir())
    assert [json.loads(p.read_text())["ok"] for p in results] == [True, False]
