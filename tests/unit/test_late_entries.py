"""Late paperwork and corrections: a late entry is recorded with its earlier effective date
at the stage it belongs to; a correction is its own decision naming the one it corrects;
stage-changing decisions stay in effective order."""

from __future__ import annotations

import pytest

from domain.engine import Engine
from domain.errors import EffectiveDateError, NotFoundError, RuleError, WrongStageError
from tests.conftest import Run
from tests.lifecycle import CLOSED_ON, consultation_closed, correct, late_response, permit_fulfilled


@pytest.fixture
def grass(run: Run) -> Run:
    consultation_closed(run)
    return run


def option(run: Run, effective: str) -> None:
    run(
        "record-option",
        initiative_id="grass",
        option="late",
        description="an option found after the scan",
        circularity_level="R8",
        expert="TNO",
        effective=effective,
    )


def test_a_late_response_is_recorded_at_its_stage_with_its_earlier_date(
    grass: Run, memory_engine: Engine
) -> None:
    late_response(grass, "2016-01-01", "late-letter")  # the consultation was open then
    initiative = memory_engine.initiative("grass")
    assert initiative.stage == "precondition_fulfilment"  # the stage path is unchanged
    assert "Late BV" in initiative.responses
    assert initiative.last_effective.isoformat() == CLOSED_ON  # the latest decision stays latest
    assert memory_engine.history(initiative)[-1].decision.effective.isoformat() == "2016-01-01"


def test_a_late_entry_must_belong_to_the_stage_it_was_at_on_its_date(grass: Run) -> None:
    with pytest.raises(WrongStageError, match="is at market consultation on that day"):
        option(grass, "2016-02-01")  # the expert scan was over then


def test_a_late_entry_before_the_initiative_existed_is_refused(grass: Run) -> None:
    with pytest.raises(EffectiveDateError, match="was proposed on"):
        option(grass, "2015-06-01")


def test_stage_changing_decisions_stay_in_effective_order(grass: Run) -> None:
    with pytest.raises(EffectiveDateError, match="only these may be entered late"):
        grass("stall", initiative_id="grass", effective="2016-02-01")


def test_a_correction_names_the_decision_it_corrects_and_the_state_reads_the_correction(
    grass: Run, memory_engine: Engine
) -> None:
    permit_fulfilled(grass, "permit-2016-001.pdf", "fulfil-permit")
    correct(grass, "fulfil-permit", "fix-permit", corrected_evidence=["permit-2016-011.pdf"])
    initiative = memory_engine.initiative("grass")
    assert initiative.preconditions["permit"]["evidence"] == ["permit-2016-011.pdf"]
    assert initiative.corrected("fulfil-permit", "evidence", []) == ["permit-2016-011.pdf"]
    assert initiative.correction_of("fix-permit") == "fulfil-permit"
    fulfilled = next(
        e for e in memory_engine.history(initiative) if e.decision.command_id == "fulfil-permit"
    )
    assert fulfilled.decision.evidence == ["permit-2016-001.pdf"]  # the record stays as it was


def test_a_correction_must_name_a_decision_of_this_initiative(grass: Run) -> None:
    with pytest.raises(NotFoundError, match="no decision on initiative 'grass'"):
        correct(grass, "nope", corrected_reason="x")


def test_a_correction_is_not_corrected_itself(grass: Run) -> None:
    late_response(grass, "2016-02-01", "response-x")
    correct(grass, "response-x", "fix", corrected_reason="X declined in writing")
    with pytest.raises(RuleError, match="correct 'response-x' again instead"):
        correct(grass, "fix", "fix-again", corrected_reason="y")
