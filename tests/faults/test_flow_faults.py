"""The scale-up check as real Prefect flow runs in their own processes, against one Prefect
server (its test harness): a run SIGKILLed between two tasks, then run again, records each
assessment once; two runs at once record one assessment per initiative between them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from adapters.settings import Settings
from adapters.store import Stores
from domain.values import Stage
from flows import runtime
from tests.conftest import TODAY, Run, runner
from tests.faults.invariants import assert_whole, recorded
from tests.faults.killing import child, run_to_end
from tests.scenario import PROGRAMME, checked_programme, initiative_at

CANDIDATES = 6
PAGE = 2  # three pages: a task pair per page, so a run has moments between its tasks


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One Prefect server for this module's flow runs; the environment their processes need."""
    home = tmp_path_factory.mktemp("prefect-home")
    env = {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    try:
        with prefect_test_harness():
            yield {**env, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Stores]:
    """A data folder with initiatives after board withdrawal, ready for the phase-3 check."""
    opened = Stores(Settings(home=tmp_path / "home", database_url=None))
    opened.engine.clock = lambda: TODAY
    run = runner(opened.engine)
    checkable(run)
    yield opened
    opened.close()


def checkable(run: Run) -> None:
    checked_programme(run, services=(runtime.SCHEDULER,))
    for n in range(CANDIDATES):
        initiative_at(run, Stage.BOARD_WITHDRAWN, initiative_id=f"grass-{n}")
        run(
            "report-impact",
            initiative_id=f"grass-{n}",
            period=2017,
            tonnes_processed_per_year=5_000 * n,
            jobs_fte=2 * n,
            effective="2017-12-31",
        )


def assessments(stores: Stores) -> dict[str, int]:
    """Today's phase-3 assessments recorded, per command id."""
    day = f":{TODAY.isoformat()}"
    return {c: n for (_, c), n in recorded(stores.engine).items() if c.endswith(day)}


def check_args(halt: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"programme": PROGRAMME, "today": TODAY, "page": PAGE, "halt": halt}


def environment(stores: Stores, prefect_api: dict[str, str]) -> dict[str, str]:
    return {**prefect_api, "KRINGLOOP_HOME": str(stores.settings.home)}


@pytest.mark.slow
def test_a_check_killed_between_two_tasks_then_run_again_assesses_each_once(
    stores: Stores, prefect_api: dict[str, str], tmp_path: Path
) -> None:
    env = environment(stores, prefect_api)
    between = tmp_path / "between-tasks"
    # find_candidates' second call: page 1 assessed and recorded, page 2 not yet looked for
    with child("flow", check_args({"n": 2, "marker": str(between)}), tmp_path, env) as check:
        check.reach(between, "the moment between page 1's and page 2's tasks")
        check.kill()
    assert sorted(assessments(stores).values()) == [1] * PAGE, "page 1 recorded, once"

    again = run_to_end("flow", check_args(), tmp_path, env)
    assert (again["candidates"], again["recorded"], again["already_recorded"]) == (
        CANDIDATES,
        CANDIDATES - PAGE,
        PAGE,
    )
    assert sorted(assessments(stores).values()) == [1] * CANDIDATES
    assert_whole(stores.engine, stores.fresh_reads(), tmp_path, [])


@pytest.mark.slow
def test_two_checks_at_once_record_one_assessment_per_initiative(
    stores: Stores, prefect_api: dict[str, str], tmp_path: Path
) -> None:
    env = environment(stores, prefect_api)
    release = tmp_path / "go"
    held = [tmp_path / "a-held", tmp_path / "b-held"]
    with ExitStack() as running:
        checks = [
            running.enter_context(
                child(
                    "flow",
                    check_args({"n": 2, "marker": str(m), "release": str(release)}),
                    tmp_path,
                    env,
                )
            )
            for m in held
        ]
        for check, marker in zip(checks, held, strict=True):
            check.reach(marker, "the moment between page 1's and page 2's tasks")
        release.write_text("go")  # both at once through pages 2 and 3
        results = [check.result() for check in checks]

    assert [r["candidates"] for r in results] == [CANDIDATES, CANDIDATES]
    assert sum(r["recorded"] for r in results) == CANDIDATES, results
    assert sum(r["already_recorded"] for r in results) == CANDIDATES, results
    assert sorted(assessments(stores).values()) == [1] * CANDIDATES, "no doubled assessment"
    assert_whole(stores.engine, stores.fresh_reads(), tmp_path, [])
