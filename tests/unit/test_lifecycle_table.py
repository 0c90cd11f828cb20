"""The lifecycle table is the engine's word: in every reachable stage and status, a step is
offered (Initiative.allowed_steps) exactly when the initiative accepts a command for it, and
a step not offered is refused with the error its reason names."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from domain.engine import Engine
from domain.initiative import LIFECYCLE, Initiative
from domain.values import Stage, Status
from tests.conftest import TODAY, runner
from tests.lifecycle import STATES, attempt, bring, state_id
from tests.scenario import programme


@pytest.fixture(scope="module")
def every_state() -> Iterator[Engine]:
    """One engine holding an initiative in each reachable state, named by its state."""
    engine = Engine(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: TODAY)
    run = runner(engine)
    programme(run)
    for stage, status in STATES:
        bring(run, stage, status, initiative_id=state_id(stage, status))
    yield engine
    engine.close()


@pytest.mark.parametrize(("stage", "status"), STATES, ids=[state_id(*s) for s in STATES])
def test_a_step_is_offered_exactly_when_it_is_accepted(
    every_state: Engine, stage: Stage, status: Status
) -> None:
    initiative = every_state.initiative(state_id(stage, status))
    assert (initiative.stage, initiative.status) == (stage, status)
    offered = initiative.allowed_steps()
    assert [s.step for s in offered] == list(LIFECYCLE)
    for step in offered:
        trial = copy.deepcopy(initiative)
        refusal = attempt(step.step, trial)
        if step.allowed:
            assert refusal is None, f"{step.step} is offered but refused: {refusal}"
            assert len(trial.pending_events) == 1
        else:
            assert refusal is not None, f"{step.step} is accepted but not offered: {step.why_not}"
            assert step.refusal is not None
            assert isinstance(refusal, step.refusal), (
                f"{step.step}: {refusal!r}, not {step.why_not}"
            )
            assert len(trial.pending_events) == 0


def test_every_step_of_the_table_has_its_command_method_and_named_guard() -> None:
    for name, step in LIFECYCLE.items():
        assert callable(getattr(Initiative, name, None)), f"no command method for step {name}"
        if step.guard:
            assert callable(getattr(Initiative, step.guard, None)), (name, step.guard)
