"""The same command id applied twice appends nothing and returns the first result."""

from __future__ import annotations

import pytest

from domain.commands.catalogue import parse_command
from domain.engine import Engine
from domain.errors import CommandIdReusedError
from domain.values import Stage
from tests.conftest import Run
from tests.scenario import initiative_at, programme

STEP = {
    "command": "start-expert-scan",
    "initiative_id": "grass",
    "actor": "broker-anna",
    "reason": "experts invited",
    "command_id": "scan-1",
    "effective": "2016-02-01",
}


@pytest.fixture
def proposed(run: Run) -> Run:
    programme(run)
    initiative_at(run, Stage.PROPOSED)
    return run


def test_a_repeated_command_returns_the_first_result(proposed: Run, memory_engine: Engine) -> None:
    first = memory_engine.execute(parse_command(STEP))
    again = memory_engine.execute(parse_command(STEP))
    assert (again.version, again.id, again.replayed) == (first.version, first.id, True)
    assert memory_engine.initiative("grass").version == first.version


def test_a_repeated_command_is_recognised_even_after_later_steps(
    proposed: Run, memory_engine: Engine
) -> None:
    first = memory_engine.execute(parse_command(STEP))
    proposed(
        "record-option",
        initiative_id="grass",
        option="fibres",
        description="mats",
        circularity_level="R8",
        expert="TNO",
        effective="2016-02-01",
    )
    again = memory_engine.execute(parse_command(STEP))
    assert again.replayed
    assert again.version == first.version


def test_a_repeated_creation_returns_the_first_result(run: Run, memory_engine: Engine) -> None:
    programme(run)
    propose = {
        "command": "propose-initiative",
        "initiative_id": "grass",
        "programme_id": "mra",
        "stream": "biomass",
        "title": "Grass",
        "actor": "broker-anna",
        "reason": "r",
        "command_id": "p-1",
        "effective": "2016-01-01",
    }
    memory_engine.execute(parse_command(propose))
    assert memory_engine.execute(parse_command(propose)).replayed


def test_a_command_id_reused_for_another_decision_is_refused(
    proposed: Run, memory_engine: Engine
) -> None:
    memory_engine.execute(parse_command(STEP))
    with pytest.raises(CommandIdReusedError, match="'scan-1' was already used"):
        memory_engine.execute(parse_command({**STEP, "reason": "something else"}))
