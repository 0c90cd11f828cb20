"""A flow decides as every door does: through the logged execute, each decision leaving its
"decided" or "refused" line with command id and actor. Its tasks retry what may pass when
tried again (a conflict, a storage failure) and never a refusal."""

from __future__ import annotations

import io
import logging
import re
import sqlite3
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from prefect import flow

from adapters.failures import StorageError
from domain.commands.initiative import (
    CloseMarketConsultation,
    EscalateInitiative,
    RegisterPrecondition,
    StallInitiative,
)
from domain.engine import Engine
from domain.errors import ConcurrencyConflictError, WrongStageError
from domain.initiative import Initiative
from domain.values import Stage
from flows.close_consultation import close
from flows.deadlines import escalate_deadlines
from tests.conftest import TODAY, Run
from tests.flows.conftest import close_grass
from tests.scenario import checked_programme, initiative_at, programme

PRECONDITIONS = [{"precondition": "volume", "kind": "guaranteed_volume", "responsible": "NL"}]


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Kringloop's log lines, as the flows' logging (adapters.bootstrap) renders them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    ours = logging.getLogger("kringloop")
    ours.addHandler(handler)
    yield stream
    ours.removeHandler(handler)


CLOSING = r"flow-run:[0-9a-f-]{36}:close\b"  # the closing step's command id


def lines_with(stream: io.StringIO, *words: str) -> list[str]:
    return [line for line in stream.getvalue().splitlines() if all(w in line for w in words)]


def test_a_flows_decision_logs_decided_with_its_command_id_and_actor(
    run: Run, engine: Engine, log_lines: io.StringIO
) -> None:
    programme(run)
    initiative_at(run, Stage.MARKET_CONSULTATION)
    close_grass(PRECONDITIONS)
    (closed,) = [line for line in lines_with(log_lines, "decided") if re.search(CLOSING, line)]
    assert CloseMarketConsultation.command in closed
    assert "broker-anna" in closed
    assert "grass" in closed
    command_id = re.search(CLOSING, closed).group()  # type: ignore[union-attr]
    recorded = engine.version_of_command(Initiative, "grass", command_id)
    assert recorded is not None, "the line names the decision that was recorded"
    registering = r"flow-run:[0-9a-f-]{36}:precondition:volume\b"
    (registered,) = [
        line for line in lines_with(log_lines, "decided") if re.search(registering, line)
    ]
    assert RegisterPrecondition.command in registered
    assert "broker-anna" in registered


def test_a_flows_refusal_logs_refused_with_its_command_id_and_actor(
    run: Run, log_lines: io.StringIO
) -> None:
    programme(run)
    initiative_at(run, Stage.EXPERT_SCAN)  # no consultation to close yet
    with pytest.raises(WrongStageError):
        close_grass(preconditions=[])
    refused = lines_with(log_lines, "refused", "wrong_stage")
    assert refused, log_lines.getvalue()
    for line in refused:
        assert CloseMarketConsultation.command in line
        assert "broker-anna" in line
        assert re.search(CLOSING, line)


def test_a_scheduled_flows_batch_logs_each_decision(run: Run, log_lines: io.StringIO) -> None:
    """execute_many, as the deadlines flow runs it, logs every decision of the batch."""
    checked_programme(run)
    for initiative in ("idle", "asleep"):
        initiative_at(run, Stage.EXPERT_SCAN, initiative_id=initiative)
        run(
            StallInitiative.command,
            initiative_id=initiative,
            reason="no experts",
            effective="2016-02-01",
        )
    result = escalate_deadlines(stalled_days=90, today=TODAY)
    assert result["recorded"] == 2
    decided = lines_with(log_lines, "decided", EscalateInitiative.command, "scheduler:deadlines")
    assert len(decided) == result["recorded"]
    assert {"idle", "asleep"} == {
        re.search(r"deadline:(\w+):", line).group(1)  # type: ignore[union-attr]
        for line in decided
    }


@flow(name="one close, no run-level retry")
def close_once(effective: date) -> int:
    """The close task alone, in a flow that never retries: what is retried is the task."""
    return close("grass", "GrassFibre", "broker-anna", "best offer", effective).version


def counted(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, first: Exception | None = None
) -> dict[str, int]:
    """Count the engine's executes; the first raises ``first``, if given."""
    real_execute = engine.execute
    attempts = {"n": 0}

    def execute(command: Any) -> Any:
        attempts["n"] += 1
        if attempts["n"] == 1 and first is not None:
            raise first
        return real_execute(command)

    monkeypatch.setattr(engine, "execute", execute)
    return attempts


@pytest.mark.parametrize(
    "passing",
    [
        ConcurrencyConflictError("initiative 'grass' was changed by another decision"),
        StorageError("the event store is locked by another process"),
        sqlite3.OperationalError("database is locked"),
    ],
    ids=["conflict", "storage-error", "driver-error"],
)
def test_a_task_retries_a_conflict_or_a_storage_failure(
    run: Run, engine: Engine, monkeypatch: pytest.MonkeyPatch, passing: Exception
) -> None:
    programme(run)
    initiative_at(run, Stage.MARKET_CONSULTATION)
    attempts = counted(engine, monkeypatch, first=passing)
    close_once(date(2016, 9, 1))
    assert attempts["n"] == 2, "tried again after the failure, and recorded"
    assert engine.initiative("grass").stage == Stage.PRECONDITION_FULFILMENT.value


def test_a_task_never_retries_a_refusal(
    run: Run, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    programme(run)
    initiative_at(run, Stage.EXPERT_SCAN)
    attempts = counted(engine, monkeypatch)
    with pytest.raises(WrongStageError):
        close_once(date(2016, 9, 1))
    assert attempts["n"] == 1, "a refusal is final: the rules would say no again"
