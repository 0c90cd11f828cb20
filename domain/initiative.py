"""An initiative: one resource stream's way from expert scan to regional scale-up."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.errors import (
    AlreadyExistsError,
    ConsortiumIncompleteError,
    NotActiveError,
    NotFoundError,
    PreconditionsStillOpenError,
    RuleError,
    SharesDoNotAddUpError,
    WrongStageError,
)
from domain.record import DecisionRecord
from domain.values import (
    FALLBACK_STAGES,
    Decision,
    PreconditionKind,
    PreconditionStatus,
    Role,
    ScaleLevel,
    Stage,
    Status,
)

INITIATIVE_NAMESPACE = UUID("0b5c3c1e-8d2a-4f0e-b6f4-6a2f1e7d9c02")
SHARE_TOLERANCE = 0.01


class Initiative(DecisionRecord):
    """A circular initiative on a resource stream or sub-stream, steered by brokers."""

    @staticmethod
    @lru_cache(maxsize=65536)
    def create_id(initiative_id: str) -> UUID:
        return uuid5(INITIATIVE_NAMESPACE, initiative_id)

    @event("Proposed")
    def __init__(
        self,
        initiative_id: str,
        programme_id: str,
        stream: str,
        title: str,
        description: str,
        decision: Decision,
    ) -> None:
        self.initiative_id = initiative_id
        self.programme_id = programme_id
        self.stream = stream
        self.title = title
        self.description = description
        self.proposed_by = decision.actor
        self.stage: str = Stage.PROPOSED.value
        self.stage_since: date = decision.effective
        self.status: str = Status.ACTIVE.value
        self.status_reason = ""
        self.abandoned_at_stage: str | None = None
        self.options: dict[str, dict[str, Any]] = {}
        self.chosen_options: list[str] = []
        self.consultation_open = False
        self.responses: dict[str, dict[str, Any]] = {}
        self.lead: str | None = None
        self.preconditions: dict[str, dict[str, Any]] = {}
        self.members: dict[str, str] = {}
        self.arrangement: dict[str, Any] | None = None
        self.consortium_formed_on: date | None = None
        self.handover_note = ""
        self.assessments: list[dict[str, Any]] = []
        self.scale_level: str | None = None
        self.scale_target: str | None = None
        self.impact: dict[str, dict[str, float]] = {}
        self.escalations: list[dict[str, Any]] = []
        self.applied_commands = {}
        self.last_effective = decision.effective

    # -- expert scan ----------------------------------------------------------------

    @event("ExpertScanStarted")
    def start_expert_scan(self, decision: Decision) -> None:
        self.check_step("start the expert scan", Stage.PROPOSED)
        self.enter(Stage.EXPERT_SCAN, decision)

    @event("InnovativeOptionRecorded")
    def record_option(
        self,
        option: str,
        description: str,
        circularity_level: str,
        expert: str,
        decision: Decision,
    ) -> None:
        self.check_step("record an innovative option", Stage.EXPERT_SCAN)
        self.options[option] = {
            "description": description,
            "circularity_level": circularity_level,
            "expert": expert,
        }

    @event("ExpertScanCompleted")
    def complete_expert_scan(self, chosen_options: list[str], decision: Decision) -> None:
        self.check_step("complete the expert scan", Stage.EXPERT_SCAN)
        unknown = [o for o in chosen_options if o not in self.options]
        if not self.options:
            raise RuleError("cannot complete the expert scan: no innovative option recorded yet")
        if unknown:
            raise NotFoundError(
                f"cannot complete the expert scan: unknown option(s) {', '.join(unknown)} "
                f"(recorded: {', '.join(sorted(self.options))})"
            )
        self.chosen_options = list(chosen_options)
        self.enter(Stage.MARKET_CONSULTATION, decision)

    # -- market consultation ------------------------------------------------------------

    @event("MarketConsultationOpened")
    def open_consultation(self, decision: Decision) -> None:
        self.check_step("open the market consultation", Stage.MARKET_CONSULTATION)
        if self.consultation_open:
            raise RuleError("the market consultation is already open")
        self.consultation_open = True

    @event("ConsultationResponseRecorded")
    def record_response(
        self,
        company: str,
        willing_to_invest: bool,
        willing_to_lead: bool,
        stated_preconditions: list[str],
        decision: Decision,
    ) -> None:
        self.check_consultation_open("record a response")
        self.responses[company] = {
            "willing_to_invest": willing_to_invest,
            "willing_to_lead": willing_to_lead,
            "stated_preconditions": list(stated_preconditions),
        }

    @event("MarketConsultationClosed")
    def close_consultation(self, lead: str, decision: Decision) -> None:
        self.check_consultation_open("close the market consultation")
        response = self.responses.get(lead)
        if response is None:
            responded = ", ".join(sorted(self.responses)) or "nobody yet"
            raise NotFoundError(
                f"cannot select '{lead}' as lead entrepreneur: it did not respond to the "
                f"consultation (responded: {responded})"
            )
        if not response["willing_to_lead"]:
            raise RuleError(
                f"cannot select '{lead}' as lead entrepreneur: it did not say it is willing "
                "to lead a consortium"
            )
        self.consultation_open = False
        self.lead = lead
        self.enter(Stage.PRECONDITION_FULFILMENT, decision)

    def check_consultation_open(self, action: str) -> None:
        self.check_step(action, Stage.MARKET_CONSULTATION)
        if not self.consultation_open:
            raise RuleError(f"cannot {action}: the market consultation is not open")

    # -- preconditions ------------------------------------------------------------------

    @event("PreconditionRegistered")
    def register_precondition(
        self,
        precondition: str,
        kind: str,
        description: str,
        responsible: str,
        due: date | None,
        target_value: float | None,
        target_unit: str | None,
        decision: Decision,
    ) -> None:
        self.check_step("register a precondition", Stage.PRECONDITION_FULFILMENT)
        existing = self.preconditions.get(precondition)
        if existing is not None and existing["status"] != PreconditionStatus.DROPPED:
            raise AlreadyExistsError(f"precondition '{precondition}' is already registered")
        self.preconditions[precondition] = {
            "kind": kind,
            "description": description,
            "responsible": responsible,
            "due": due,
            "target_value": target_value,
            "target_unit": target_unit,
            "status": PreconditionStatus.OPEN.value,
            "resolved_on": None,
            "resolution": "",
            "evidence": [],
        }

    @event("PreconditionFulfilled")
    def fulfil_precondition(self, precondition: str, decision: Decision) -> None:
        self.resolve(precondition, PreconditionStatus.FULFILLED, "fulfil", decision)

    @event("PreconditionWaived")
    def waive_precondition(self, precondition: str, decision: Decision) -> None:
        self.resolve(precondition, PreconditionStatus.WAIVED, "waive", decision)

    @event("PreconditionFailed")
    def fail_precondition(self, precondition: str, decision: Decision) -> None:
        self.resolve(precondition, PreconditionStatus.FAILED, "record the failure of", decision)

    def resolve(
        self, precondition: str, outcome: PreconditionStatus, verb: str, decision: Decision
    ) -> None:
        action = f"{verb} precondition '{precondition}'"
        self.check_step(action, Stage.PRECONDITION_FULFILMENT)
        record = self.preconditions.get(precondition)
        if record is None:
            known = ", ".join(sorted(self.preconditions)) or "none registered"
            raise NotFoundError(f"cannot {action}: no such precondition ({known})")
        if record["status"] != PreconditionStatus.OPEN:
            raise RuleError(f"cannot {action}: it is already {record['status']}")
        if outcome == PreconditionStatus.FULFILLED and not decision.evidence:
            raise RuleError(f"cannot {action} without evidence: give at least one reference")
        record["status"] = outcome.value
        record["resolved_on"] = decision.effective
        record["resolution"] = decision.reason
        record["evidence"] = list(decision.evidence)

    def unresolved_preconditions(self) -> list[str]:
        """Names of preconditions still open or failed: each blocks the consortium."""
        return [
            f"{PreconditionKind(p['kind']).label} ({name}, {p['status']})"
            if p["status"] == PreconditionStatus.FAILED
            else f"{PreconditionKind(p['kind']).label} ({name})"
            for name, p in self.preconditions.items()
            if p["status"] in (PreconditionStatus.OPEN, PreconditionStatus.FAILED)
        ]

    # -- consortium ---------------------------------------------------------------------

    @event("ConsortiumMemberJoined")
    def admit_member(self, organisation: str, role: str, decision: Decision) -> None:
        self.check_step(f"admit '{organisation}' to the consortium", Stage.PRECONDITION_FULFILMENT)
        if role == Role.LEAD and organisation != self.lead:
            raise RuleError(
                f"cannot admit '{organisation}' as lead: the lead entrepreneur selected in the "
                f"market consultation is '{self.lead}'"
            )
        self.members[organisation] = role

    @event("FinancialArrangementAgreed")
    def agree_arrangement(
        self, arrangement_type: str, shares: list[dict[str, Any]], decision: Decision
    ) -> None:
        self.check_step("agree a financial arrangement", Stage.PRECONDITION_FULFILMENT)
        outsiders = [s["party"] for s in shares if s["party"] not in self.members]
        if outsiders:
            raise RuleError(
                "cannot agree the financial arrangement: not consortium members: "
                + ", ".join(outsiders)
            )
        for share in ("cost_share", "benefit_share"):
            total = sum(float(s[share]) for s in shares)
            if abs(total - 100.0) > SHARE_TOLERANCE:
                raise SharesDoNotAddUpError(
                    f"cannot agree the financial arrangement: {share.replace('_', ' ')}s add "
                    f"up to {total:g} %, not 100 %"
                )
        self.arrangement = {"type": arrangement_type, "shares": [dict(s) for s in shares]}

    @event("FinancialArrangementNotNeeded")
    def declare_no_arrangement(self, decision: Decision) -> None:
        self.check_step("declare no financial arrangement needed", Stage.PRECONDITION_FULFILMENT)
        self.arrangement = {"type": "none", "shares": []}

    @event("ConsortiumFormed")
    def form_consortium(self, decision: Decision, operating_from: date | None = None) -> None:
        self.check_step("form the consortium", Stage.PRECONDITION_FULFILMENT)
        unresolved = self.unresolved_preconditions()
        if unresolved:
            raise PreconditionsStillOpenError(
                f"cannot form consortium: {len(unresolved)} precondition"
                f"{'s' if len(unresolved) > 1 else ''} still open: {', '.join(unresolved)}"
            )
        if self.members.get(self.lead or "") != Role.LEAD:
            raise ConsortiumIncompleteError(
                f"cannot form consortium: the lead entrepreneur '{self.lead}' has not joined "
                "it as lead"
            )
        if len(self.members) < 2:
            raise ConsortiumIncompleteError(
                f"cannot form consortium: it needs at least two members, it has {len(self.members)}"
            )
        if self.arrangement is None:
            raise ConsortiumIncompleteError(
                "cannot form consortium: agree a financial arrangement or declare that none "
                "is needed"
            )
        self.consortium_formed_on = decision.effective
        self.enter(Stage.CONSORTIUM_FORMED, decision)

    # -- board withdrawal and scale-up ------------------------------------------------------

    @event("BoardWithdrew")
    def withdraw_board(self, handover_note: str, decision: Decision) -> None:
        self.check_step("withdraw the board", Stage.CONSORTIUM_FORMED)
        self.handover_note = handover_note
        self.enter(Stage.BOARD_WITHDRAWN, decision)

    class ScaleUpAssessed(DecisionRecord.Event):
        """Version 2 has ``at_risk`` (the phase-3 check's flag beside ``ready``). It was added
        before events were versioned: a version-1 state may or may not hold it."""

        class_version = 2
        ready: bool
        criteria: str
        figures: dict[str, float]
        at_risk: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("at_risk", False)  # assessed before the flag existed: none raised

    @event(ScaleUpAssessed)
    def assess_scale_up(
        self,
        ready: bool,
        criteria: str,
        figures: dict[str, float],
        decision: Decision,
        at_risk: bool = False,
    ) -> None:
        if self.stage not in (Stage.BOARD_WITHDRAWN, Stage.SCALED_UP):
            raise WrongStageError(
                f"cannot assess scale-up: initiative '{self.initiative_id}' is at "
                f"{Stage(self.stage).label}, not board withdrawn or scaled up"
            )
        self.check_not_abandoned("assess scale-up")  # a stalled one is assessed: at risk
        self.assessments.append(
            {
                "on": decision.effective,
                "ready": ready,
                "at_risk": at_risk,
                "criteria": criteria,
                "figures": dict(figures),
                "by": decision.actor,
            }
        )

    @event("ScaleUpStarted")
    def start_scale_up(self, level: str, decision: Decision) -> None:
        self.check_step("start scale-up", Stage.BOARD_WITHDRAWN, Stage.SCALED_UP)
        if not self.assessments or not self.assessments[-1]["ready"]:
            raise RuleError(
                "cannot start scale-up: the latest scale-up assessment does not find the "
                "initiative ready"
                if self.assessments
                else "cannot start scale-up: no scale-up assessment recorded yet"
            )
        levels = list(ScaleLevel)
        if self.scale_level is not None and levels.index(ScaleLevel(level)) <= levels.index(
            ScaleLevel(self.scale_level)
        ):
            raise RuleError(f"cannot scale up to {level}: already scaled up to {self.scale_level}")
        self.scale_target = level
        self.enter(Stage.SCALING_UP, decision)

    @event("ScaleUpCompleted")
    def complete_scale_up(self, decision: Decision) -> None:
        self.check_step("complete scale-up", Stage.SCALING_UP)
        self.scale_level = self.scale_target
        self.scale_target = None
        self.enter(Stage.SCALED_UP, decision)

    @event("ImpactReported")
    def report_impact(self, period: int, figures: dict[str, float], decision: Decision) -> None:
        if Stage(self.stage).rank < Stage.CONSORTIUM_FORMED.rank:
            raise WrongStageError(
                f"cannot report impact: initiative '{self.initiative_id}' is at "
                f"{Stage(self.stage).label}; impact is reported once the consortium is formed"
            )
        self.check_not_abandoned("report impact")
        self.impact[str(period)] = dict(figures)

    @event("Escalated")
    def escalate(self, concern: str, subject: str, decision: Decision) -> None:
        """A deadline passed: an overdue precondition, or a stall past the threshold."""
        self.check_not_abandoned("escalate")
        self.escalations.append(
            {"on": decision.effective, "concern": concern, "subject": subject, "by": decision.actor}
        )

    # -- side paths ---------------------------------------------------------------------

    @event("Stalled")
    def stall(self, decision: Decision) -> None:
        self.check_active("stall")
        if self.stage == Stage.SCALED_UP:
            raise RuleError("cannot stall: the initiative has scaled up")
        self.status = Status.STALLED.value
        self.status_reason = decision.reason

    @event("Resumed")
    def resume(self, decision: Decision) -> None:
        if self.status != Status.STALLED:
            raise RuleError(f"cannot resume: the initiative is {self.status}, not stalled")
        self.status = Status.ACTIVE.value
        self.status_reason = ""

    @event("Abandoned")
    def abandon(self, decision: Decision) -> None:
        self.check_not_abandoned("abandon")
        if self.stage == Stage.SCALED_UP:
            raise RuleError("cannot abandon: the initiative has scaled up")
        self.status = Status.ABANDONED.value
        self.status_reason = decision.reason
        self.abandoned_at_stage = self.stage

    @event("Reopened")
    def reopen(self, decision: Decision) -> None:
        if self.status != Status.ABANDONED:
            raise RuleError(f"cannot reopen: the initiative is {self.status}, not abandoned")
        self.status = Status.ACTIVE.value
        self.status_reason = ""
        self.abandoned_at_stage = None

    @event("FellBack")
    def fall_back(self, to_stage: str, decision: Decision) -> None:
        self.check_not_abandoned("fall back")
        target = Stage(to_stage)
        if target not in FALLBACK_STAGES:
            allowed = ", ".join(s.label for s in FALLBACK_STAGES)
            raise RuleError(f"cannot fall back to {target.label}: fall back to one of {allowed}")
        current = Stage(self.stage)
        if target.rank >= current.rank or current.rank > Stage.BOARD_WITHDRAWN.rank:
            raise WrongStageError(
                f"cannot fall back from {current.label} to {target.label}: only to an earlier "
                "stage, and not once scale-up has started"
            )
        self.consortium_formed_on = None
        self.assessments = []  # a scale-up assessment does not outlive the consortium it judged
        if target.rank <= Stage.MARKET_CONSULTATION.rank:
            self.consultation_open = target == Stage.MARKET_CONSULTATION
            self.lead = None
            self.members = {}
            self.arrangement = None
            for record in self.preconditions.values():
                if record["status"] in (PreconditionStatus.OPEN, PreconditionStatus.FAILED):
                    record["status"] = PreconditionStatus.DROPPED.value
        if target == Stage.EXPERT_SCAN:
            self.chosen_options = []
            self.responses = {}
        self.enter(target, decision)

    # -- guards -------------------------------------------------------------------------

    def enter(self, stage: Stage, decision: Decision) -> None:
        self.stage = stage.value
        self.stage_since = decision.effective

    def check_step(self, action: str, *stages: Stage) -> None:
        if self.stage not in stages:
            expected = " or ".join(s.label for s in stages)
            raise WrongStageError(
                f"cannot {action}: initiative '{self.initiative_id}' is at "
                f"{Stage(self.stage).label}, not {expected}"
            )
        self.check_active(action)

    def check_active(self, action: str) -> None:
        if self.status == Status.STALLED:
            raise NotActiveError(
                f"cannot {action}: initiative '{self.initiative_id}' is stalled "
                f"({self.status_reason}); resume it first"
            )
        self.check_not_abandoned(action)

    def check_not_abandoned(self, action: str) -> None:
        if self.status == Status.ABANDONED:
            raise NotActiveError(
                f"cannot {action}: initiative '{self.initiative_id}' was abandoned "
                f"({self.status_reason}); reopen it first"
            )
