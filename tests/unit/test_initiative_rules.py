"""The lifecycle rules, one behaviour per test, in the domain's words."""

from __future__ import annotations

from typing import Any

import pytest

from domain.engine import Engine
from domain.errors import (
    ConsortiumIncompleteError,
    EffectiveDateError,
    NoMandateError,
    NotActiveError,
    NotFoundError,
    PreconditionsStillOpenError,
    RuleError,
    SharesDoNotAddUpError,
    WrongStageError,
)
from domain.values import Stage
from tests.conftest import Run
from tests.scenario import initiative_at, programme


@pytest.fixture
def at(run: Run) -> Run:
    programme(run)
    return run


def events_of(engine: Engine, initiative_id: str = "grass") -> int:
    return engine.initiative(initiative_id).version


def test_normal_path_reaches_scale_up(at: Run, memory_engine: Engine) -> None:
    initiative_at(at, Stage.SCALED_UP)
    initiative = memory_engine.initiative("grass")
    assert initiative.stage == Stage.SCALED_UP
    assert initiative.scale_level == "regional"


def test_consortium_cannot_form_while_preconditions_open(at: Run) -> None:
    initiative_at(at, Stage.PRECONDITION_FULFILMENT)
    at("admit-member", initiative_id="grass", organisation="GrassFibre", role="lead")
    at("admit-member", initiative_id="grass", organisation="Port", role="other")
    at("declare-no-arrangement", initiative_id="grass")
    with pytest.raises(PreconditionsStillOpenError) as refused:
        at("form-consortium", initiative_id="grass")
    assert str(refused.value) == (
        "cannot form consortium: 2 preconditions still open: guaranteed volume (volume), "
        "offtake quality (offtake)"
    )


VOLUME_FULFILLED = ("fulfil-precondition", {"precondition": "volume", "evidence": ["c.pdf"]})
OFFTAKE_WAIVED = ("waive-precondition", {"precondition": "offtake"})
LEAD_ADMITTED = ("admit-member", {"organisation": "GrassFibre", "role": "lead"})
Step = tuple[str, dict[str, Any]]


@pytest.mark.parametrize(
    ("stage", "before", "refused", "error", "message"),
    [
        pytest.param(
            Stage.PROPOSED,
            [],
            ("open-consultation", {"effective": "2016-01-01"}),
            WrongStageError,
            "is at proposed, not market consultation",
            id="steps_cannot_be_skipped",
        ),
        pytest.param(
            Stage.PRECONDITION_FULFILMENT,
            [VOLUME_FULFILLED, ("fail-precondition", {"precondition": "offtake"})],
            ("form-consortium", {}),
            PreconditionsStillOpenError,
            "offtake, failed",
            id="a_failed_precondition_blocks_the_consortium",
        ),
        pytest.param(
            Stage.PRECONDITION_FULFILMENT,
            [],
            ("fulfil-precondition", {"precondition": "volume"}),
            RuleError,
            "without evidence",
            id="fulfilling_a_precondition_needs_evidence",
        ),
        pytest.param(
            Stage.PRECONDITION_FULFILMENT,
            [VOLUME_FULFILLED, OFFTAKE_WAIVED, LEAD_ADMITTED, ("declare-no-arrangement", {})],
            ("form-consortium", {}),
            ConsortiumIncompleteError,
            "at least two members, it has 1",
            id="consortium_needs_two_members",
        ),
        pytest.param(
            Stage.PRECONDITION_FULFILMENT,
            [],
            ("admit-member", {"organisation": "Port", "role": "lead"}),
            RuleError,
            "lead entrepreneur selected in the market consultation",
            id="consortium_needs_the_lead_entrepreneur_as_lead",
        ),
        pytest.param(
            Stage.PRECONDITION_FULFILMENT,
            [
                VOLUME_FULFILLED,
                OFFTAKE_WAIVED,
                LEAD_ADMITTED,
                ("admit-member", {"organisation": "Port", "role": "other"}),
            ],
            ("form-consortium", {}),
            ConsortiumIncompleteError,
            "financial arrangement",
            id="consortium_needs_an_arrangement_decision",
        ),
        pytest.param(
            Stage.MARKET_CONSULTATION,
            [],
            ("close-consultation", {"lead": "Stranger BV"}),
            NotFoundError,
            "did not respond to the consultation",
            id="lead_must_have_responded_to_the_consultation",
        ),
        pytest.param(
            Stage.MARKET_CONSULTATION,
            [
                (
                    "record-response",
                    {"company": "Shy BV", "willing_to_invest": True, "willing_to_lead": False},
                )
            ],
            ("close-consultation", {"lead": "Shy BV"}),
            RuleError,
            "not say it is willing to lead",
            id="lead_must_be_willing_to_lead",
        ),
        pytest.param(
            Stage.PRECONDITION_FULFILMENT,
            [],
            ("withdraw-board", {"handover_note": "bye"}),
            WrongStageError,
            "not consortium formed",
            id="no_board_withdrawal_before_the_consortium_forms",
        ),
        pytest.param(
            Stage.CONSORTIUM_FORMED,
            [],
            ("start-scale-up", {"level": "regional"}),
            WrongStageError,
            "cannot start scale-up",
            id="no_scale_up_before_withdrawal",
        ),
        pytest.param(
            Stage.BOARD_WITHDRAWN,
            [("assess-scale-up", {"ready": False, "criteria": "volume not yet met"})],
            ("start-scale-up", {"level": "regional"}),
            RuleError,
            "does not find the initiative ready",
            id="scale_up_needs_a_ready_assessment",
        ),
        pytest.param(
            Stage.PRECONDITION_FULFILMENT,
            [],
            ("report-impact", {"period": 2017, "jobs_fte": 4}),
            WrongStageError,
            "impact is reported once the consortium is formed",
            id="impact_only_after_the_consortium_forms",
        ),
        pytest.param(
            Stage.EXPERT_SCAN,
            [],
            ("fall-back", {"to_stage": "precondition_fulfilment"}),
            WrongStageError,
            "only to an earlier stage",
            id="fall_back_only_goes_to_an_earlier_stage",
        ),
        pytest.param(
            Stage.PROPOSED,
            [],
            ("start-expert-scan", {"actor": "broker-bas"}),
            NoMandateError,
            "'broker-bas' holds no mandate for stream",
            id="decisions_need_a_mandate_for_the_stream",
        ),
    ],
)
def test_a_step_against_the_rules_is_refused(
    at: Run,
    stage: Stage,
    before: list[Step],
    refused: Step,
    error: type[Exception],
    message: str,
) -> None:
    """The initiative at ``stage``, the steps ``before`` taken: ``refused`` is refused with
    ``error``, saying ``message``."""
    initiative_at(at, stage)
    for command, fields in before:
        at(command, initiative_id="grass", **fields)
    command, fields = refused
    with pytest.raises(error, match=message):
        at(command, initiative_id="grass", **fields)


@pytest.mark.parametrize(
    ("costs", "benefits", "message"),
    [
        ((60, 30), (50, 50), "cost shares add up to 90 %"),
        ((50, 50), (70, 40), "benefit shares add up to 110 %"),
    ],
)
def test_arrangement_shares_add_up_to_100(
    at: Run, costs: tuple[int, int], benefits: tuple[int, int], message: str
) -> None:
    initiative_at(at, Stage.PRECONDITION_FULFILMENT)
    at("admit-member", initiative_id="grass", organisation="GrassFibre", role="lead")
    at("admit-member", initiative_id="grass", organisation="Port", role="other")
    shares = [
        {"party": "GrassFibre", "cost_share": costs[0], "benefit_share": benefits[0]},
        {"party": "Port", "cost_share": costs[1], "benefit_share": benefits[1]},
    ]
    with pytest.raises(SharesDoNotAddUpError, match=message):
        at(
            "agree-arrangement",
            initiative_id="grass",
            arrangement_type="jv",
            shares=shares,
        )


def test_impact_report_for_the_same_year_replaces_the_earlier(
    at: Run, memory_engine: Engine
) -> None:
    initiative_at(at, Stage.CONSORTIUM_FORMED)
    at("report-impact", initiative_id="grass", period=2017, jobs_fte=4)
    at("report-impact", initiative_id="grass", period=2017, jobs_fte=6, companies_started=1)
    assert memory_engine.initiative("grass").impact == {
        "2017": {"jobs_fte": 6.0, "companies_started": 1.0}
    }


def test_a_stalled_initiative_must_resume_before_the_next_step(at: Run) -> None:
    initiative_at(at, Stage.EXPERT_SCAN)
    at("stall", initiative_id="grass", reason="experts unavailable")
    with pytest.raises(NotActiveError, match=r"is stalled \(experts unavailable\); resume it"):
        at("complete-expert-scan", initiative_id="grass", chosen_options=["fibres"])
    at("resume", initiative_id="grass")
    at("complete-expert-scan", initiative_id="grass", chosen_options=["fibres"])


def test_an_abandoned_initiative_can_be_reopened_where_it_was(
    at: Run, memory_engine: Engine
) -> None:
    initiative_at(at, Stage.EXPERT_SCAN)
    at("abandon", initiative_id="grass", reason="no market")
    with pytest.raises(NotActiveError, match="was abandoned"):
        at("complete-expert-scan", initiative_id="grass", chosen_options=["fibres"])
    at("reopen", initiative_id="grass", reason="a new technology appeared")
    assert memory_engine.initiative("grass").stage == Stage.EXPERT_SCAN
    assert memory_engine.initiative("grass").status == "active"


def test_a_failed_precondition_falls_back_to_the_consultation(
    at: Run, memory_engine: Engine
) -> None:
    initiative_at(at, Stage.PRECONDITION_FULFILMENT)
    at("fail-precondition", initiative_id="grass", precondition="offtake")
    at("fall-back", initiative_id="grass", to_stage="market_consultation")
    initiative = memory_engine.initiative("grass")
    assert initiative.stage == Stage.MARKET_CONSULTATION
    assert initiative.lead is None
    assert initiative.consultation_open
    assert {p["status"] for p in initiative.preconditions.values()} == {"dropped"}


def proposed_then_mandate_revoked(at: Run) -> None:
    """grass proposed on 2016-01-01 by broker-anna, whose biomass mandate ends 2016-06-01."""
    initiative_at(at, Stage.PROPOSED, effective="2016-01-01")
    at(
        "revoke-mandate",
        programme_id="mra",
        broker="broker-anna",
        streams=["biomass"],
        effective="2016-06-01",
        actor="board",
    )


def test_a_mandate_counts_on_the_decision_date_not_today(at: Run) -> None:
    proposed_then_mandate_revoked(at)
    at("start-expert-scan", initiative_id="grass", effective="2016-05-31", recorded_by="board")
    with pytest.raises(NoMandateError, match="on 2016-06-01"):
        at(
            "record-option",
            initiative_id="grass",
            option="x",
            description="x",
            circularity_level="R3",
            expert="x",
            effective="2016-06-01",
        )


def test_a_broker_whose_mandate_ended_cannot_backdate_a_decision_today(at: Run) -> None:
    proposed_then_mandate_revoked(at)
    with pytest.raises(NoMandateError, match="recorded today by 'broker-anna'"):
        at("start-expert-scan", initiative_id="grass", effective="2016-05-31")


def test_a_late_entry_names_who_decided_and_who_recorded_it(at: Run, memory_engine: Engine) -> None:
    proposed_then_mandate_revoked(at)
    at("start-expert-scan", initiative_id="grass", effective="2016-05-31", recorded_by="board")
    decision = memory_engine.history(memory_engine.initiative("grass"))[-1].decision
    assert (decision.actor, decision.recorder) == ("broker-anna", "board")
    assert decision.authority.startswith("mandate for biomass in mra from 2015-03-01 (decision ")
    assert "; recorded by board under role manager (decision " in decision.authority


def propose(at: Run, stream: str = "biomass", effective: str = "2016-01-01") -> None:
    at(
        "propose-initiative",
        initiative_id="grass",
        programme_id="mra",
        stream=stream,
        title="Grass",
        effective=effective,
    )


def test_a_mandate_on_a_stream_covers_its_sub_streams(at: Run, memory_engine: Engine) -> None:
    propose(at, stream="roadside-grass")
    assert memory_engine.initiative("grass").stream == "roadside-grass"


@pytest.mark.parametrize(
    ("effective", "refusal"),
    [
        ("2099-01-01", "lies in the future"),
        ("2014-01-01", "before programme 'mra' existed"),
    ],
    ids=["in-the-future", "before-the-programme"],
)
def test_a_decision_cannot_take_effect_in_the_future_or_before_the_programme(
    at: Run, effective: str, refusal: str
) -> None:
    with pytest.raises(EffectiveDateError, match=refusal):
        propose(at, effective=effective)


def test_a_decision_cannot_take_effect_before_the_previous_one(at: Run) -> None:
    initiative_at(at, Stage.PROPOSED, effective="2016-03-01")
    with pytest.raises(EffectiveDateError, match="previous decision took effect on 2016-03-01"):
        at("start-expert-scan", initiative_id="grass", effective="2016-02-01")


def test_refused_commands_append_nothing(at: Run, memory_engine: Engine) -> None:
    initiative_at(at, Stage.PRECONDITION_FULFILMENT)
    before = events_of(memory_engine)
    with pytest.raises(PreconditionsStillOpenError):
        at("form-consortium", initiative_id="grass")
    assert events_of(memory_engine) == before


def test_an_unknown_initiative_is_named(at: Run) -> None:
    with pytest.raises(NotFoundError, match="no initiative 'nope'"):
        at("start-expert-scan", initiative_id="nope")


def test_a_sub_stream_needs_a_registered_parent(at: Run) -> None:
    with pytest.raises(NotFoundError, match="parent stream 'metals' is not registered"):
        at(
            "register-stream",
            programme_id="mra",
            stream="scrap",
            name="Scrap",
            parent="metals",
            actor="board",
        )


def test_phases_start_in_order(at: Run) -> None:
    with pytest.raises(RuleError, match="phase 2 has not started"):
        at(
            "record-phase-change",
            programme_id="mra",
            phase=3,
            phase_status="started",
            actor="board",
            effective="2019-01-07",
        )


def test_a_fall_back_clears_the_scale_up_assessment(at: Run) -> None:
    initiative_at(at, Stage.BOARD_WITHDRAWN)
    at("assess-scale-up", initiative_id="grass", ready=True, criteria="all met")
    at("fall-back", initiative_id="grass", to_stage="precondition_fulfilment")
    at("form-consortium", initiative_id="grass")
    at("withdraw-board", initiative_id="grass", handover_note="again")
    with pytest.raises(RuleError, match="no scale-up assessment recorded yet"):
        at("start-scale-up", initiative_id="grass", level="regional")
