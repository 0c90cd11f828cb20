"""Every deployment in prefect.yaml loads: its entrypoint resolves to a flow, its schedules
are valid, its parameters fit the flow's signature."""

from __future__ import annotations

import inspect

import pytest

from adapters.orchestration import _schedules, deployment_specs, load_flow

SPECS = deployment_specs()


def test_prefect_yaml_declares_every_flow_in_the_flows_folder() -> None:
    from pathlib import Path

    files = {p.stem for p in Path("flows").glob("*.py")} - {"__init__", "runtime"}
    assert {s.entrypoint.split("/")[1].split(".py")[0] for s in SPECS} == files


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_a_deployment_loads(spec) -> None:  # type: ignore[no-untyped-def]
    flow = load_flow(spec.entrypoint)
    assert flow.name == spec.name
    signature = inspect.signature(flow.fn)
    assert set(spec.parameters) <= set(signature.parameters), "unknown parameters"
    required = {n for n, p in signature.parameters.items() if p.default is inspect.Parameter.empty}
    if required <= set(spec.parameters):
        flow.validate_parameters(spec.parameters)
    # _sync: Prefect picks its async twin when it finds a run context or a running loop,
    # which another test in the same worker process may have left behind (pytest-xdist)
    deployment = flow.to_deployment(
        name=spec.name, schedules=_schedules(spec), parameters=spec.parameters, _sync=True
    )
    assert len(deployment.schedules) == len(spec.schedules)


def test_the_weekly_check_runs_on_monday_mornings_in_amsterdam() -> None:
    (check,) = [s for s in SPECS if s.name == "scale-up-check"]
    (schedule,) = _schedules(check)
    assert (schedule.cron, schedule.timezone) == ("0 6 * * 1", "Europe/Amsterdam")
