"""Builders that take a programme and an initiative to a given point, through real commands."""

from __future__ import annotations

import json
from typing import Any

from adapters.commanding import apply_lines
from adapters.demo import scenario_path
from domain.commands.catalogue import parse_command
from domain.engine import Engine
from domain.values import Stage
from tests.conftest import Run, runner

PROGRAMME = "mra"
BROKER = "broker-anna"
FOUNDED = "2015-01-15"


def apply_scenario(engine: Engine, name: str) -> list[str]:
    """Apply one of the shipped scenarios (adapters/scenarios) as `kringloop apply` does;
    return its lines."""
    lines = scenario_path(name).read_text().splitlines()
    report = apply_lines(
        engine,
        (
            (n, lambda line=line: parse_command(json.loads(line)))
            for n, line in enumerate(lines, start=1)
            if line.strip()
        ),
    )
    assert report.stopped is None
    return lines


def a_target(key: str, unit: str, target: float, programme_id: str = PROGRAMME) -> dict[str, Any]:
    """set-target's fields for a target ``key`` from 0 to ``target`` by the end of 2025."""
    return {
        "programme_id": programme_id,
        "key": key,
        "unit": unit,
        "baseline": 0,
        "target": target,
        "deadline": "2025-12-31",
    }


def grant_mandate(run: Run, broker: str, streams: list[str]) -> None:
    """The board's mandate for ``broker`` on ``streams`` from 2015-03-01."""
    run(
        "grant-mandate",
        programme_id=PROGRAMME,
        broker=broker,
        streams=streams,
        effective="2015-03-01",
        actor="board",
    )


def programme(run: Run, broker: str = BROKER) -> None:
    """A programme with the biomass stream, a roadside-grass sub-stream, and one mandate; the
    authority register started with 'board' as its manager."""
    run("init-authority", manager="board", effective="2015-01-01", actor="operator:tests")
    run(
        "create-programme",
        programme_id=PROGRAMME,
        name="Circular MRA",
        region="MRA",
        members=["Gemeente Amsterdam"],
        effective=FOUNDED,
        actor="board",
    )
    run(
        "register-stream",
        programme_id=PROGRAMME,
        stream="biomass",
        name="Biomass",
        effective="2015-02-01",
        actor="board",
    )
    run(
        "register-stream",
        programme_id=PROGRAMME,
        stream="roadside-grass",
        name="Roadside grass",
        parent="biomass",
        effective="2015-02-01",
        actor="board",
    )
    run(
        "register-stream",
        programme_id=PROGRAMME,
        stream="textiles",
        name="Textiles",
        effective="2015-02-01",
        actor="board",
    )
    grant_mandate(run, broker, ["biomass"])


STEPS: list[tuple[Stage, list[tuple[str, dict[str, Any]]]]] = [
    (
        Stage.PROPOSED,
        [
            (
                "propose-initiative",
                {
                    "programme_id": PROGRAMME,
                    "stream": "roadside-grass",
                    "title": "Grass to insulation",
                },
            )
        ],
    ),
    (
        Stage.EXPERT_SCAN,
        [
            ("start-expert-scan", {}),
            (
                "record-option",
                {
                    "option": "fibres",
                    "description": "mats",
                    "circularity_level": "R8",
                    "expert": "TNO",
                },
            ),
        ],
    ),
    (
        Stage.MARKET_CONSULTATION,
        [
            ("complete-expert-scan", {"chosen_options": ["fibres"]}),
            ("open-consultation", {}),
            (
                "record-response",
                {"company": "GrassFibre", "willing_to_invest": True, "willing_to_lead": True},
            ),
        ],
    ),
    (
        Stage.PRECONDITION_FULFILMENT,
        [
            ("close-consultation", {"lead": "GrassFibre"}),
            (
                "register-precondition",
                {
                    "precondition": "volume",
                    "kind": "guaranteed_volume",
                    "responsible": "Province",
                    "target_value": 50000,
                    "target_unit": "t/yr",
                },
            ),
            (
                "register-precondition",
                {"precondition": "offtake", "kind": "offtake_quality", "responsible": "GrassFibre"},
            ),
        ],
    ),
    (
        Stage.CONSORTIUM_FORMED,
        [
            ("fulfil-precondition", {"precondition": "volume", "evidence": ["contract.pdf"]}),
            ("waive-precondition", {"precondition": "offtake"}),
            ("admit-member", {"organisation": "GrassFibre", "role": "lead"}),
            ("admit-member", {"organisation": "Port", "role": "other"}),
            ("declare-no-arrangement", {}),
            ("form-consortium", {}),
        ],
    ),
    (Stage.BOARD_WITHDRAWN, [("withdraw-board", {"handover_note": "carry on"})]),
    (
        Stage.SCALING_UP,
        [
            ("assess-scale-up", {"ready": True, "criteria": "volume met"}),
            ("start-scale-up", {"level": "regional"}),
        ],
    ),
    (Stage.SCALED_UP, [("complete-scale-up", {})]),
]


def initiative_at(
    run: Run, stage: Stage, initiative_id: str = "grass", effective: str = "2016-01-01"
) -> None:
    """Take a new initiative through the normal path until it stands at ``stage``."""
    for reached, commands in STEPS:
        for command, fields in commands:
            run(command, initiative_id=initiative_id, effective=effective, **fields)
        if reached == stage:
            return


def at_stage(engine: Engine, stage: Stage, **initiative: str) -> Run:
    """A runner on ``engine``, the programme, and an initiative (grass unless named) taken
    to ``stage``: the start of most tests on a real store."""
    run = runner(engine)
    programme(run)
    initiative_at(run, stage, **initiative)
    return run


def grass_formed(engine: Engine) -> int:
    """grass at consortium formed (through ``at_stage``), the start of the race tests;
    returns its version, to count the events the racers add."""
    at_stage(engine, Stage.CONSORTIUM_FORMED)
    return engine.initiative("grass").version


def scaled_up(engine: Engine, count: int) -> Run:
    """A runner on ``engine`` after ``programme_with_scaled_up``."""
    run = runner(engine)
    programme_with_scaled_up(run, count)
    return run


def programme_with_scaled_up(run: Run, count: int) -> list[str]:
    """The programme and ``count`` initiatives grass-0, grass-1, ... scaled up: the load the
    runner's crash and race tests work through. Returns their ids."""
    programme(run)
    ids = [f"grass-{n}" for n in range(count)]
    for initiative_id in ids:
        initiative_at(run, Stage.SCALED_UP, initiative_id=initiative_id)
    return ids


SCHEDULERS = ("scheduler:phase-3-check", "scheduler:deadlines")  # flows.runtime's identities


def checked_programme(run: Run, services: tuple[str, ...] = SCHEDULERS) -> None:
    """The programme, its scheduled checks holding a mandate on every stream, and its
    phase-3 criteria (12 months since withdrawal, 10,000 t/yr, 5 FTE)."""
    programme(run)
    for service in services:
        grant_mandate(run, service, ["all"])
    run(
        "set-scale-up-criteria",
        programme_id=PROGRAMME,
        min_months_operating=12,
        min_tonnes_per_year=10_000,
        min_jobs_fte=5,
        actor="board",
        effective="2015-03-01",
    )


def withdrawn(
    run: Run, initiative_id: str, tonnes: float, jobs: float, reported: str = "2024-01-31"
) -> None:
    """An initiative after board withdrawal with one year's impact reported (by default in
    January 2024: recent evidence on the tests' day, 2024-06-03)."""
    initiative_at(run, Stage.BOARD_WITHDRAWN, initiative_id=initiative_id)
    run(
        "report-impact",
        initiative_id=initiative_id,
        period=int(reported[:4]) - 1,
        tonnes_processed_per_year=tonnes,
        jobs_fte=jobs,
        effective=reported,
    )
