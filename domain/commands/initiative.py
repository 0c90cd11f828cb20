"""Commands that take an initiative through its lifecycle, and its side paths."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.commands.base import (
    Command,
    Day,
    Figure,
    FigureName,
    Name,
    Percentage,
    Slug,
    Text,
)
from domain.initiative import Initiative
from domain.values import (
    IMPACT_FIGURES,
    CircularityLevel,
    Decision,
    PreconditionKind,
    Role,
    ScaleLevel,
    Stage,
)


class InitiativeCommand(Command):
    group: ClassVar[str] = "initiative"

    initiative_id: Slug

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        raise NotImplementedError


class ProposeInitiative(InitiativeCommand):
    """Propose an initiative on a resource stream or sub-stream of a programme."""

    command: ClassVar[str] = "propose-initiative"
    step: ClassVar[str] = "propose"
    former_verbs: ClassVar[tuple[str, ...]] = ("propose",)
    creates: ClassVar[bool] = True
    programme_id: Slug
    stream: Slug
    title: Name
    description: Text = ""

    def create(self, decision: Decision) -> Initiative:
        return Initiative(
            initiative_id=self.initiative_id,
            programme_id=self.programme_id,
            stream=self.stream,
            title=self.title,
            description=self.description,
            decision=decision,
        )


class StartExpertScan(InitiativeCommand):
    """Start the expert scan: with experts, look for the most innovative options."""

    command: ClassVar[str] = "start-expert-scan"
    step: ClassVar[str] = "start_expert_scan"

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.start_expert_scan(decision=decision)


class RecordInnovativeOption(InitiativeCommand):
    """Record an innovative option the expert scan found, with its R-ladder level."""

    command: ClassVar[str] = "record-option"
    step: ClassVar[str] = "record_option"
    former_names: ClassVar[tuple[str, ...]] = ("record-innovative-option",)
    option: Slug
    description: Name
    circularity_level: CircularityLevel
    expert: Name

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.record_option(
            option=self.option,
            description=self.description,
            circularity_level=str(self.circularity_level),
            expert=self.expert,
            decision=decision,
        )


class CompleteExpertScan(InitiativeCommand):
    """Complete the expert scan, choosing the options to take to the market."""

    command: ClassVar[str] = "complete-expert-scan"
    step: ClassVar[str] = "complete_expert_scan"
    chosen_options: list[Slug] = Field(min_length=1, max_length=50)

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.complete_expert_scan(chosen_options=list(self.chosen_options), decision=decision)


class OpenMarketConsultation(InitiativeCommand):
    """Open the market consultation: which companies want to invest, and who would lead?"""

    command: ClassVar[str] = "open-consultation"
    step: ClassVar[str] = "open_consultation"
    former_names: ClassVar[tuple[str, ...]] = ("open-market-consultation",)

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.open_consultation(decision=decision)


class RecordConsultationResponse(InitiativeCommand):
    """Record a company's response, with the preconditions it states for leading."""

    command: ClassVar[str] = "record-response"
    step: ClassVar[str] = "record_response"
    former_names: ClassVar[tuple[str, ...]] = ("record-consultation-response",)
    company: Name
    willing_to_invest: bool
    willing_to_lead: bool
    stated_preconditions: list[Name] = Field(default_factory=list, max_length=50)

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.record_response(
            company=self.company,
            willing_to_invest=self.willing_to_invest,
            willing_to_lead=self.willing_to_lead,
            stated_preconditions=list(self.stated_preconditions),
            decision=decision,
        )


class CloseMarketConsultation(InitiativeCommand):
    """Close the consultation, selecting the lead entrepreneur from the respondents."""

    command: ClassVar[str] = "close-consultation"
    step: ClassVar[str] = "close_consultation"
    former_names: ClassVar[tuple[str, ...]] = ("close-market-consultation",)
    lead: Name

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.close_consultation(lead=self.lead, decision=decision)


class RegisterPrecondition(InitiativeCommand):
    """Register a precondition the lead entrepreneur set, with who is responsible."""

    command: ClassVar[str] = "register-precondition"
    step: ClassVar[str] = "register_precondition"
    precondition: Slug
    kind: PreconditionKind
    description: Text = ""
    responsible: Name = Field(description="the party responsible for meeting it")
    due: Day | None = None
    target_value: Figure | None = Field(default=None, description="e.g. 50000")
    target_unit: Name | None = Field(default=None, description="e.g. t/yr")

    @model_validator(mode="after")
    def _value_has_unit(self) -> RegisterPrecondition:
        if (self.target_value is None) != (self.target_unit is None):
            raise ValueError("give target_value and target_unit together, or neither")
        return self

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.register_precondition(
            precondition=self.precondition,
            kind=str(self.kind),
            description=self.description,
            responsible=self.responsible,
            due=self.due,
            target_value=self.target_value,
            target_unit=self.target_unit,
            decision=decision,
        )


class FulfilPrecondition(InitiativeCommand):
    """Record that a precondition is met; the evidence references are required."""

    command: ClassVar[str] = "fulfil-precondition"
    step: ClassVar[str] = "fulfil_precondition"
    precondition: Slug

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.fulfil_precondition(precondition=self.precondition, decision=decision)


class WaivePrecondition(InitiativeCommand):
    """Waive a precondition; the reason says why it no longer needs to be met."""

    command: ClassVar[str] = "waive-precondition"
    step: ClassVar[str] = "waive_precondition"
    precondition: Slug

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.waive_precondition(precondition=self.precondition, decision=decision)


class RecordPreconditionFailed(InitiativeCommand):
    """Record that a precondition cannot be met (it blocks the consortium until fall-back)."""

    command: ClassVar[str] = "fail-precondition"
    step: ClassVar[str] = "fail_precondition"
    former_names: ClassVar[tuple[str, ...]] = ("record-precondition-failed",)
    precondition: Slug

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.fail_precondition(precondition=self.precondition, decision=decision)


class AdmitConsortiumMember(InitiativeCommand):
    """Admit an organisation to the consortium in a role (the lead joins as lead)."""

    command: ClassVar[str] = "admit-member"
    step: ClassVar[str] = "admit_member"
    former_names: ClassVar[tuple[str, ...]] = ("admit-consortium-member",)
    organisation: Name
    role: Role

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.admit_member(
            organisation=self.organisation, role=str(self.role), decision=decision
        )


class Share(BaseModel):
    """One party's share of the costs and of the benefits, in percent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    party: Name
    cost_share: Percentage
    benefit_share: Percentage


class AgreeFinancialArrangement(InitiativeCommand):
    """Record the new financial arrangement: how members share costs and benefits."""

    command: ClassVar[str] = "agree-arrangement"
    step: ClassVar[str] = "agree_arrangement"
    former_names: ClassVar[tuple[str, ...]] = ("agree-financial-arrangement",)
    arrangement_type: Name = Field(description="e.g. joint venture, offtake contract, gain share")
    shares: list[Share] = Field(
        min_length=1,
        max_length=50,
        description="each member's share of the costs and of the benefits, in percent; "
        "each adds up to 100",
        examples=[
            [
                {"party": "Example Recycling BV", "cost_share": 60, "benefit_share": 60},
                {"party": "Gemeente Voorbeeld", "cost_share": 40, "benefit_share": 40},
            ]
        ],
    )

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.agree_arrangement(
            arrangement_type=self.arrangement_type,
            shares=[s.model_dump() for s in self.shares],
            decision=decision,
        )


class DeclareNoFinancialArrangement(InitiativeCommand):
    """Record explicitly that the consortium needs no new financial arrangement."""

    command: ClassVar[str] = "declare-no-arrangement"
    step: ClassVar[str] = "declare_no_arrangement"
    former_names: ClassVar[tuple[str, ...]] = ("declare-no-financial-arrangement",)
    former_verbs: ClassVar[tuple[str, ...]] = ("no-arrangement",)

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.declare_no_arrangement(decision=decision)


class FormConsortium(InitiativeCommand):
    """Form the consortium: every precondition resolved, lead and members on board."""

    command: ClassVar[str] = "form-consortium"
    step: ClassVar[str] = "form_consortium"
    operating_from: Day | None = Field(
        default=None,
        description="the day the consortium starts (or started) operating, from which phase 3 "
        "counts its months; default: the day it is formed",
    )
    added_later: ClassVar[frozenset[str]] = frozenset({"operating_from"})

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.form_consortium(decision=decision, operating_from=self.operating_from)


class WithdrawBoard(InitiativeCommand):
    """The board steps back; the consortium carries on."""

    command: ClassVar[str] = "withdraw-board"
    step: ClassVar[str] = "withdraw_board"
    handover_note: Text = Field(min_length=1)

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.withdraw_board(handover_note=self.handover_note, decision=decision)


class AssessScaleUp(InitiativeCommand):
    """Record a phase-3 assessment: the criteria, the figures, ready or not."""

    command: ClassVar[str] = "assess-scale-up"
    step: ClassVar[str] = "assess_scale_up"
    ready: bool
    at_risk: bool = False
    criteria: Text = Field(min_length=1)
    figures: dict[FigureName, Figure] = Field(
        default_factory=dict,
        max_length=50,
        description="the figures the assessment weighed, by name",
        examples=[{"months_operating": 14, "tonnes_per_year": 22000, "jobs_fte": 8}],
    )

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.assess_scale_up(
            ready=self.ready,
            criteria=self.criteria,
            figures=dict(self.figures),
            decision=decision,
            at_risk=self.at_risk,
        )


class StartScaleUp(InitiativeCommand):
    """Start scaling up towards a level, after an assessment found it ready."""

    command: ClassVar[str] = "start-scale-up"
    step: ClassVar[str] = "start_scale_up"
    level: ScaleLevel = ScaleLevel.REGIONAL

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.start_scale_up(level=str(self.level), decision=decision)


class CompleteScaleUp(InitiativeCommand):
    """Record that the scale-up reached its level."""

    command: ClassVar[str] = "complete-scale-up"
    step: ClassVar[str] = "complete_scale_up"

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.complete_scale_up(decision=decision)


class ReportImpact(InitiativeCommand):
    """Report the impact over a year; a later report for the same year replaces it."""

    command: ClassVar[str] = "report-impact"
    step: ClassVar[str] = "report_impact"
    period: int = Field(ge=2000, le=2100, description="the year reported on")
    jobs_fte: Figure | None = None
    companies_started: int | None = Field(default=None, ge=0, le=100_000)
    tonnes_processed_per_year: Figure | None = None
    raw_material_import_avoided_t: Figure | None = None
    environmental_pressure_reduction_t_co2e: Figure | None = None

    def figures(self) -> dict[str, float]:
        return {
            key: float(value) for key in IMPACT_FIGURES if (value := getattr(self, key)) is not None
        }

    @model_validator(mode="after")
    def _some_figure(self) -> ReportImpact:
        if not self.figures():
            raise ValueError("report at least one figure: " + ", ".join(IMPACT_FIGURES))
        return self

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.report_impact(period=self.period, figures=self.figures(), decision=decision)


class EscalateInitiative(InitiativeCommand):
    """Escalate a passed deadline: an overdue precondition, or a stall past the threshold."""

    command: ClassVar[str] = "escalate"
    step: ClassVar[str] = "escalate"
    former_names: ClassVar[tuple[str, ...]] = ("escalate-initiative",)
    concern: Literal["overdue_precondition", "stalled"]
    subject: Name = Field(description="the precondition, or what the stall waits for")

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.escalate(concern=self.concern, subject=self.subject, decision=decision)


class StallInitiative(InitiativeCommand):
    """Mark the initiative stalled; the reason says what it waits for."""

    command: ClassVar[str] = "stall"
    step: ClassVar[str] = "stall"
    former_names: ClassVar[tuple[str, ...]] = ("stall-initiative",)

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.stall(decision=decision)


class ResumeInitiative(InitiativeCommand):
    """Resume a stalled initiative where it stood."""

    command: ClassVar[str] = "resume"
    step: ClassVar[str] = "resume"
    former_names: ClassVar[tuple[str, ...]] = ("resume-initiative",)

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.resume(decision=decision)


class AbandonInitiative(InitiativeCommand):
    """Abandon the initiative (it can be reopened)."""

    command: ClassVar[str] = "abandon"
    step: ClassVar[str] = "abandon"
    former_names: ClassVar[tuple[str, ...]] = ("abandon-initiative",)

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.abandon(decision=decision)


class ReopenInitiative(InitiativeCommand):
    """Reopen an abandoned initiative at the stage where it was left."""

    command: ClassVar[str] = "reopen"
    step: ClassVar[str] = "reopen"
    former_names: ClassVar[tuple[str, ...]] = ("reopen-initiative",)

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.reopen(decision=decision)


class FallBack(InitiativeCommand):
    """Send the initiative back to an earlier stage (a failed precondition, a lead who left)."""

    command: ClassVar[str] = "fall-back"
    step: ClassVar[str] = "fall_back"
    to_stage: Stage

    def decide(self, initiative: Initiative, decision: Decision) -> None:
        initiative.fall_back(to_stage=str(self.to_stage), decision=decision)
