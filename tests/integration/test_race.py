"""Two processes deciding on the same initiative at once: one wins a contested step, the
other gets a clear refusal; commuting decisions all land; nothing is lost or doubled."""

from __future__ import annotations

from multiprocessing.synchronize import Barrier

import pytest

from domain.engine import Engine
from domain.errors import KringloopError
from tests.conftest import TODAY, runner
from tests.processes import barrier, spawned
from tests.scenario import grass_formed

REPORTS = 25


def broker(env: dict[str, str], name: str, start: Barrier) -> tuple[str, list[str]]:
    """One broker process: a contested step, then a run of its own impact reports. The tables
    exist already, as they do when brokers start on a deployed store: creating them is the
    start-up's business (`adapters.store.creating_tables`), not each command's."""
    engine = Engine(env={**env, "CREATE_TABLE": "n"}, clock=lambda: TODAY)
    run = runner(engine)
    start.wait()
    outcomes: list[str] = []
    try:
        done = run("withdraw-board", initiative_id="grass", handover_note=f"handed over by {name}")
        outcomes.append("withdrew" if not done.replayed else f"replayed:{done.version}")
    except KringloopError as error:
        outcomes.append(f"refused:{error.code}")
    for i in range(REPORTS):
        period = 2000 + i * 2 + (0 if name == "a" else 1)
        try:
            run("report-impact", initiative_id="grass", period=period, jobs_fte=i)
            outcomes.append(f"reported:{period}")
        except KringloopError as error:
            outcomes.append(f"refused:{error.code}")
    engine.close()
    return name, outcomes


@pytest.mark.slow
def test_two_processes_racing_on_one_initiative(
    stored_engine: Engine, store_env: dict[str, str]
) -> None:
    before = grass_formed(stored_engine)
    start = barrier(2)
    with spawned(broker, [(store_env, n, start) for n in ("a", "b")]) as returned:
        outcomes = dict(returned)

    contested = sorted(o[0] for o in outcomes.values())
    assert contested == ["refused:wrong_stage", "withdrew"]
    reported = {o for os in outcomes.values() for o in os if o.startswith("reported:")}
    with Engine(env=store_env, clock=lambda: TODAY) as fresh:
        initiative = fresh.initiative("grass")
        recorded = {f"reported:{p}" for p in initiative.impact}
        assert recorded == reported, "every accepted report is recorded, and only those"
        assert initiative.version == before + 1 + len(reported), "nothing doubled"
