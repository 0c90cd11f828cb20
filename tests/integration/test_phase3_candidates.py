"""The phase-3 check's candidates (projections.phase3), on SQLite and PostgreSQL: the same
figures as the read-side query, a page at a time, less what the check already recorded."""

from __future__ import annotations

from datetime import date

import pytest

from domain.engine import Engine
from domain.values import Stage
from projections import phase3, queries
from projections.runner import Runner
from tests.conftest import TODAY, Run, runner
from tests.scenario import PROGRAMME, SCHEDULERS, checked_programme, initiative_at, withdrawn

SCHEDULER = SCHEDULERS[0]
CANDIDATES = ["grass", "small", "stale", "stuck", "unreported"]


def check_command(initiative_id: str, day: date = TODAY) -> str:
    return f"phase-3:{initiative_id}:{day.isoformat()}"


@pytest.fixture
def run(stored_engine: Engine) -> Run:
    """Five candidates (one stalled, one with stale evidence, one without a report), one
    abandoned after board withdrawal and one not yet withdrawn."""
    run = runner(stored_engine)
    checked_programme(run)
    withdrawn(run, "grass", tonnes=50_000, jobs=25)
    withdrawn(run, "small", tonnes=2_000, jobs=1)
    withdrawn(run, "stale", tonnes=20_000, jobs=10, reported="2022-10-31")
    withdrawn(run, "stuck", tonnes=20_000, jobs=10)
    run("stall", initiative_id="stuck", reason="permit revoked", effective="2024-02-01")
    initiative_at(run, Stage.BOARD_WITHDRAWN, initiative_id="unreported")
    initiative_at(run, Stage.BOARD_WITHDRAWN, initiative_id="gone")
    run("abandon", initiative_id="gone", reason="no offtake", effective="2024-03-01")
    initiative_at(run, Stage.CONSORTIUM_FORMED, initiative_id="young")
    return run


def assess(run: Run, initiative_id: str, command_id: str, actor: str) -> None:
    run(
        "assess-scale-up",
        command_id=command_id,
        initiative_id=initiative_id,
        actor=actor,
        ready=False,
        criteria="by hand",
        effective=TODAY.isoformat(),
    )


def pages(read_runner: Runner, limit: int) -> list[phase3.Phase3Page]:
    """Every page of candidates on the tests' day, until one finds none (left out)."""
    read_runner.catch_up()

    def after(last: str) -> phase3.Phase3Page:
        return phase3.candidates(read_runner.store, PROGRAMME, TODAY, check_command, last, limit)

    found = [after("")]
    while (last := found[-1].last) is not None:
        found.append(after(last))
    return found[:-1]


def test_the_check_sees_the_figures_the_read_side_query_gives(
    run: Run, read_runner: Runner
) -> None:
    read_runner.catch_up()
    criteria, expected = queries.phase3_candidates(read_runner.store, PROGRAMME, TODAY)
    for limit in (2, 100):
        found = pages(read_runner, limit)
        assert [f for page in found for f in page.due] == expected
        assert {page.criteria["min_jobs_fte"] for page in found} == {criteria["min_jobs_fte"]}
        assert [f.initiative_id for f in expected] == [
            "grass",
            "small",
            "stale",
            "stuck",
            "unreported",
        ]


def test_what_the_check_recorded_today_is_skipped_and_nothing_else(
    run: Run, read_runner: Runner
) -> None:
    assess(run, "grass", check_command("grass"), SCHEDULER)
    assess(run, "small", "broker-anna-assessed-small", "broker-anna")  # not the check's own
    assess(run, "stale", check_command("stale", date(2024, 6, 2)), SCHEDULER)  # yesterday's id
    assess(run, "stuck", check_command("stuck"), SCHEDULER)
    run("report-impact", initiative_id="stuck", period=2024, tonnes_processed_per_year=1.0)
    (page,) = pages(read_runner, 100)
    # stuck: decided on again after the check, so the engine is asked (and recognises it)
    assert page.assessed == ["grass"]
    assert [f.initiative_id for f in page.due] == ["small", "stale", "stuck", "unreported"]


def test_a_page_of_skipped_candidates_still_moves_the_check_on(
    run: Run, read_runner: Runner
) -> None:
    for initiative_id in ("grass", "small"):
        assess(run, initiative_id, check_command(initiative_id), SCHEDULER)
    first, *rest = pages(read_runner, 2)
    assert (first.assessed, first.due, first.last) == (["grass", "small"], [], "small")
    assert [f.initiative_id for page in rest for f in page.due] == ["stale", "stuck", "unreported"]
