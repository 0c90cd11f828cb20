"""An initiative: one resource stream's way from expert scan to regional scale-up.

The whole lifecycle is the table below: each step, the stages and statuses it is taken in,
the rule it checks beyond them, and whether it may be entered late. ``check`` reads it for
every command; ``allowed_steps`` reads it for every door (forms, CLI, API). Each command
method checks, then records one event; the event-applying methods below it only change
state, so a history that today's rules would refuse still loads.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any, ClassVar
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.errors import (
    AlreadyExistsError,
    ConsortiumIncompleteError,
    EffectiveDateError,
    KringloopError,
    Message,
    NotActiveError,
    NotFoundError,
    PreconditionsStillOpenError,
    RuleError,
    SharesDoNotAddUpError,
    Term,
    WrongStageError,
    either,
    terms,
)
from domain.lifecycle import ABANDONED, ANY_STATUS, NOT_ABANDONED, STALLED, NextStep, Step
from domain.messages import N_
from domain.record import DecisionRecord, forget_applied_commands
from domain.values import (
    FALLBACK_STAGES,
    Decision,
    PreconditionStatus,
    Role,
    ScaleLevel,
    Stage,
    Status,
)

INITIATIVE_NAMESPACE = UUID("0b5c3c1e-8d2a-4f0e-b6f4-6a2f1e7d9c02")
SHARE_TOLERANCE = 0.01

_P, _ES, _MC, _PF = (
    Stage.PROPOSED,
    Stage.EXPERT_SCAN,
    Stage.MARKET_CONSULTATION,
    Stage.PRECONDITION_FULFILMENT,
)
_CF, _BW, _SU, _UP = (
    Stage.CONSORTIUM_FORMED,
    Stage.BOARD_WITHDRAWN,
    Stage.SCALING_UP,
    Stage.SCALED_UP,
)
_EVERY = tuple(Stage)
_RUNNING = (_CF, _BW, _SU, _UP)  # a consortium operates: impact is reported
_NOT_SCALED_UP = tuple(s for s in Stage if s != _UP)

LIFECYCLE: dict[str, Step] = {
    # the main path
    "start_expert_scan": Step(
        N_("start the expert scan"), "ExpertScanStarted", (_P,), moves_to="expert scan"
    ),
    "record_option": Step(
        N_("record an innovative option"), "InnovativeOptionRecorded", (_ES,), late=True
    ),
    "complete_expert_scan": Step(
        N_("complete the expert scan"),
        "ExpertScanCompleted",
        (_ES,),
        guard="an_option",
        moves_to="market consultation",
    ),
    "open_consultation": Step(
        N_("open the market consultation"),
        "MarketConsultationOpened",
        (_MC,),
        guard="consultation_shut",
    ),
    "record_response": Step(
        N_("record a response"),
        "ConsultationResponseRecorded",
        (_MC,),
        guard="consultation_underway",
        late=True,
    ),
    "close_consultation": Step(
        N_("close the market consultation"),
        "MarketConsultationClosed",
        (_MC,),
        guard="a_willing_lead",
        moves_to="precondition fulfilment",
    ),
    "register_precondition": Step(N_("register a precondition"), "PreconditionRegistered", (_PF,)),
    "fulfil_precondition": Step(
        N_("fulfil a precondition"), "PreconditionFulfilled", (_PF,), guard="an_open_precondition"
    ),
    "waive_precondition": Step(
        N_("waive a precondition"), "PreconditionWaived", (_PF,), guard="an_open_precondition"
    ),
    "fail_precondition": Step(
        N_("record the failure of a precondition"),
        "PreconditionFailed",
        (_PF,),
        guard="an_open_precondition",
    ),
    "admit_member": Step(N_("admit a consortium member"), "ConsortiumMemberJoined", (_PF,)),
    "agree_arrangement": Step(
        N_("agree a financial arrangement"), "FinancialArrangementAgreed", (_PF,), guard="a_member"
    ),
    "declare_no_arrangement": Step(
        N_("declare no financial arrangement needed"), "FinancialArrangementNotNeeded", (_PF,)
    ),
    "form_consortium": Step(
        N_("form the consortium"),
        "ConsortiumFormed",
        (_PF,),
        guard="ready_to_form",
        moves_to="consortium formed",
    ),
    "withdraw_board": Step(
        N_("withdraw the board"), "BoardWithdrew", (_CF,), moves_to="board withdrawn"
    ),
    "assess_scale_up": Step(N_("assess scale-up"), "ScaleUpAssessed", (_BW, _UP), NOT_ABANDONED),
    "start_scale_up": Step(
        N_("start scale-up"),
        "ScaleUpStarted",
        (_BW, _UP),
        guard="assessed_ready",
        moves_to="scaling up",
    ),
    "complete_scale_up": Step(
        N_("complete scale-up"), "ScaleUpCompleted", (_SU,), moves_to="scaled up"
    ),
    "report_impact": Step(
        N_("report impact"),
        "ImpactReported",
        _RUNNING,
        NOT_ABANDONED,
        late=True,
        at_words=N_("impact is reported once the consortium is formed"),
    ),
    # the side paths
    "escalate": Step(N_("escalate"), "Escalated", _EVERY, NOT_ABANDONED),
    "stall": Step(
        N_("stall"), "Stalled", _NOT_SCALED_UP, at_words=N_("the initiative has scaled up")
    ),
    "resume": Step(N_("resume"), "Resumed", _EVERY, STALLED),
    "abandon": Step(
        N_("abandon"),
        "Abandoned",
        _NOT_SCALED_UP,
        NOT_ABANDONED,
        at_words=N_("the initiative has scaled up"),
    ),
    "reopen": Step(N_("reopen"), "Reopened", _EVERY, ABANDONED),
    "fall_back": Step(
        N_("fall back"),
        "FellBack",
        tuple(s for s in Stage if FALLBACK_STAGES[0].rank < s.rank <= _BW.rank),
        NOT_ABANDONED,
        at_words=N_("only to an earlier stage, and not once scale-up has started"),
        moves_to="an earlier stage",
    ),
    # the record itself
    "correct_decision": Step(N_("correct a decision"), "DecisionCorrected", _EVERY, ANY_STATUS),
}
"""Every step an initiative takes: the event it records, the stages and statuses it is
allowed in, the guard it checks beyond them (named), where it moves, and whether it may be
entered late. The doors offer what this allows (Initiative.allowed_steps)."""
LATE_ENTRIES = {
    "record_option": N_("an innovative option"),
    "record_response": N_("a response"),
    "report_impact": N_("impact"),
}
"""What may be entered late, in words: the steps of the table that say ``late=True``
(tests/unit/test_messages.py keeps the two the same)."""
CORRECTABLE = ("reason", "evidence")
"""What a correction may change: the words and references of a decision, not its effect."""


class Initiative(DecisionRecord):
    """A circular initiative on a resource stream or sub-stream, steered by brokers."""

    class_version = 3  # 2 keeps the stage path (for late entries); 3 no applied-command index
    decided_by: ClassVar[dict[str, str]] = {s.records: name for name, s in LIFECYCLE.items()}

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A snapshot taken before the stage path was kept: its path starts where it stood."""
        state.setdefault("path", [[state["stage"], state["stage_since"]]])
        state.setdefault("corrections", {})

    upcast_v2_v3 = staticmethod(forget_applied_commands)

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
        self.path: list[list[Any]] = [[self.stage, self.stage_since]]  # [stage, since], ...
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
        self.corrections: dict[str, list[dict[str, Any]]] = {}  # corrected command id: ...
        self.last_effective = decision.effective

    # -- what can be done next ---------------------------------------------------------

    def allowed_steps(self) -> list[NextStep]:
        """Every step of the lifecycle, in table order: allowed now, or why not."""
        steps = []
        for name, step in LIFECYCLE.items():
            refusal = self.refusal(name)
            steps.append(
                NextStep(
                    step=name,
                    action=step.action,
                    allowed=refusal is None,
                    why_not="" if refusal is None else str(refusal),
                    refusal=None if refusal is None else type(refusal),
                    reason=refusal,
                    in_stage=self.stage in step.at and step.at != _EVERY,
                )
            )
        return steps

    def check(self, name: str, decision: Decision, action: Message | None = None) -> None:
        """Refuse the step if the table or its guard says no; ``action`` words it."""
        refusal = self.refusal(name, decision.effective, action)
        if refusal is not None:
            raise refusal

    def refusal(
        self, name: str, effective: date | None = None, action: Message | None = None
    ) -> KringloopError | None:
        """Why the step may not be taken (on ``effective``), or None; ``action`` words the
        step in the refusal ("cannot {action}: ..."), the table's words when not given."""
        step = LIFECYCLE[name]
        words = action or Message(step.action)
        stage = Stage(self.stage)
        late = effective is not None and effective < self.last_effective
        if effective is not None and late:
            if not step.late:
                return EffectiveDateError(
                    N_(
                        "a decision on this initiative cannot take effect on {day}: the "
                        "previous decision took effect on {previous} (only these may be "
                        "entered late: {late})"
                    ),
                    day=effective,
                    previous=self.last_effective,
                    late=[Message(words) for words in LATE_ENTRIES.values()],
                )
            then = self.stage_on(effective)
            if then is None:
                return EffectiveDateError(
                    N_(
                        "cannot {action} with effect from {day}: the initiative was proposed "
                        "on {proposed}"
                    ),
                    action=words,
                    day=effective,
                    proposed=self.path[0][1],
                )
            stage = then
        if stage not in step.at:
            where = Message(
                N_("initiative '{initiative}' is at {stage} on that day")
                if late
                else N_("initiative '{initiative}' is at {stage}"),
                initiative=self.initiative_id,
                stage=Term("stage", stage),
            )
            if step.at_words:
                return WrongStageError(
                    N_("cannot {action}: {where}; {why}"),
                    action=words,
                    where=where,
                    why=Message(step.at_words),
                )
            return WrongStageError(
                N_("cannot {action}: {where}, not {expected}"),
                action=words,
                where=where,
                expected=either(terms("stage", step.at)),
            )
        if Status(self.status) not in step.when:
            return self.status_refusal(words, step)
        if step.guard and not late:  # a late entry is checked against the stage it was at
            found: KringloopError | None = getattr(self, step.guard)(words)
            return found
        return None

    def status_refusal(self, words: Message, step: Step) -> KringloopError:
        if step.when == STALLED or step.when == ABANDONED:
            wanted = Status.STALLED if step.when == STALLED else Status.ABANDONED
            return RuleError(
                N_("cannot {action}: the initiative is {status}, not {wanted}"),
                action=words,
                status=Term("status", self.status),
                wanted=Term("status", wanted),
            )
        if self.status == Status.STALLED:
            return NotActiveError(
                N_(
                    "cannot {action}: initiative '{initiative}' is stalled ({reason}); resume it "
                    "first"
                ),
                action=words,
                initiative=self.initiative_id,
                reason=self.status_reason,
            )
        return NotActiveError(
            N_(
                "cannot {action}: initiative '{initiative}' was abandoned ({reason}); reopen it "
                "first"
            ),
            action=words,
            initiative=self.initiative_id,
            reason=self.status_reason,
        )

    def stage_on(self, day: date) -> Stage | None:
        """The stage the initiative stood at on a day (None before it was proposed)."""
        for stage, since in reversed(self.path):
            if since <= day:
                return Stage(stage)
        return None

    def check_effective_order(self, decision: Decision) -> None:
        """``check`` keeps the order: stage-changing steps in effective order, late
        entries at their place in the timeline."""

    # -- the guards: the rule of each step beyond stage and status -------------------------

    def an_option(self, action: Message) -> KringloopError | None:
        if not self.options:
            return RuleError(
                N_("cannot {action}: no innovative option recorded yet"), action=action
            )
        return None

    def consultation_shut(self, action: Message) -> KringloopError | None:
        if self.consultation_open:
            return RuleError(
                N_("cannot {action}: the market consultation is already open"), action=action
            )
        return None

    def consultation_underway(self, action: Message) -> KringloopError | None:
        if not self.consultation_open:
            return RuleError(
                N_("cannot {action}: the market consultation is not open"), action=action
            )
        return None

    def a_willing_lead(self, action: Message) -> KringloopError | None:
        found = self.consultation_underway(action)
        if found is None and not any(r["willing_to_lead"] for r in self.responses.values()):
            found = RuleError(
                N_(
                    "cannot {action}: no respondent is willing to lead a consortium "
                    "(responded: {responded})"
                ),
                action=action,
                responded=sorted(self.responses) or Message(N_("nobody yet")),
            )
        return found

    def an_open_precondition(self, action: Message) -> KringloopError | None:
        if not any(p["status"] == PreconditionStatus.OPEN for p in self.preconditions.values()):
            known = [
                Message(
                    N_("{name} ({status})"),
                    name=name,
                    status=Term("precondition_status", p["status"]),
                )
                for name, p in self.preconditions.items()
            ]
            return RuleError(
                N_("cannot {action}: no precondition is open ({known})"),
                action=action,
                known=known or Message(N_("none")),
            )
        return None

    def a_member(self, action: Message) -> KringloopError | None:
        if not self.members:
            return RuleError(
                N_("cannot {action}: no consortium member admitted yet"), action=action
            )
        return None

    def ready_to_form(self, action: Message) -> KringloopError | None:
        unresolved = self.unresolved_preconditions()
        if unresolved:
            return PreconditionsStillOpenError(
                N_("cannot {action}: 1 precondition still open: {unresolved}")
                if len(unresolved) == 1
                else N_("cannot {action}: {count} preconditions still open: {unresolved}"),
                action=action,
                count=len(unresolved),
                unresolved=unresolved,
            )
        if self.members.get(self.lead or "") != Role.LEAD:
            return ConsortiumIncompleteError(
                N_("cannot {action}: the lead entrepreneur '{lead}' has not joined it as lead"),
                action=action,
                lead=self.lead,
            )
        if len(self.members) < 2:
            return ConsortiumIncompleteError(
                N_("cannot {action}: it needs at least two members, it has {count}"),
                action=action,
                count=len(self.members),
            )
        if self.arrangement is None:
            return ConsortiumIncompleteError(
                N_("cannot {action}: agree a financial arrangement or declare that none is needed"),
                action=action,
            )
        return None

    def assessed_ready(self, action: Message) -> KringloopError | None:
        if not self.assessments:
            return RuleError(
                N_("cannot {action}: no scale-up assessment recorded yet"), action=action
            )
        if not self.assessments[-1]["ready"]:
            return RuleError(
                N_(
                    "cannot {action}: the latest scale-up assessment does not find the "
                    "initiative ready"
                ),
                action=action,
            )
        if self.scale_level == list(ScaleLevel)[-1]:
            return RuleError(
                N_("cannot {action}: already scaled up to {level}"),
                action=action,
                level=Term("scale_level", self.scale_level),
            )
        return None

    def unresolved_preconditions(self) -> list[Message]:
        """The preconditions still open or failed, in words: each blocks the consortium."""
        return [
            Message(
                N_("{kind} ({name}, {status})"),
                kind=Term("precondition_kind", p["kind"]),
                name=name,
                status=Term("precondition_status", p["status"]),
            )
            if p["status"] == PreconditionStatus.FAILED
            else Message(
                N_("{kind} ({name})"), kind=Term("precondition_kind", p["kind"]), name=name
            )
            for name, p in self.preconditions.items()
            if p["status"] in (PreconditionStatus.OPEN, PreconditionStatus.FAILED)
        ]

    # -- expert scan ----------------------------------------------------------------

    def start_expert_scan(self, decision: Decision) -> None:
        self.check("start_expert_scan", decision)
        self._expert_scan_started(decision=decision)

    @event("ExpertScanStarted")
    def _expert_scan_started(self, decision: Decision) -> None:
        self.enter(_ES, decision)

    def record_option(self, option: str, decision: Decision, **found: Any) -> None:
        """``found``: the option's description, circularity_level and expert."""
        self.check("record_option", decision)
        self._option_recorded(option=option, decision=decision, **found)

    @event("InnovativeOptionRecorded")
    def _option_recorded(
        self, option: str, description: str, circularity_level: str, expert: str, decision: Decision
    ) -> None:
        self.options[option] = {
            "description": description,
            "circularity_level": circularity_level,
            "expert": expert,
        }

    def complete_expert_scan(self, chosen_options: list[str], decision: Decision) -> None:
        self.check("complete_expert_scan", decision)
        unknown = [o for o in chosen_options if o not in self.options]
        if unknown:
            raise NotFoundError(
                N_(
                    "cannot complete the expert scan: unknown option(s) {unknown} (recorded: "
                    "{known})"
                ),
                unknown=unknown,
                known=sorted(self.options),
            )
        self._expert_scan_completed(chosen_options=list(chosen_options), decision=decision)

    @event("ExpertScanCompleted")
    def _expert_scan_completed(self, chosen_options: list[str], decision: Decision) -> None:
        self.chosen_options = list(chosen_options)
        self.enter(_MC, decision)

    # -- market consultation ------------------------------------------------------------

    def open_consultation(self, decision: Decision) -> None:
        self.check("open_consultation", decision)
        self._consultation_opened(decision=decision)

    @event("MarketConsultationOpened")
    def _consultation_opened(self, decision: Decision) -> None:
        self.consultation_open = True

    def record_response(self, company: str, decision: Decision, **answers: Any) -> None:
        """``answers``: willing_to_invest, willing_to_lead and stated_preconditions."""
        self.check("record_response", decision)
        self._response_recorded(company=company, decision=decision, **answers)

    @event("ConsultationResponseRecorded")
    def _response_recorded(
        self,
        company: str,
        willing_to_invest: bool,
        willing_to_lead: bool,
        stated_preconditions: list[str],
        decision: Decision,
    ) -> None:
        self.responses[company] = {
            "willing_to_invest": willing_to_invest,
            "willing_to_lead": willing_to_lead,
            "stated_preconditions": list(stated_preconditions),
        }

    def close_consultation(self, lead: str, decision: Decision) -> None:
        self.check("close_consultation", decision)
        response = self.responses.get(lead)
        if response is None:
            raise NotFoundError(
                N_(
                    "cannot select '{lead}' as lead entrepreneur: it did not respond to the "
                    "consultation (responded: {responded})"
                ),
                lead=lead,
                responded=sorted(self.responses),
            )
        if not response["willing_to_lead"]:
            raise RuleError(
                N_(
                    "cannot select '{lead}' as lead entrepreneur: it did not say it is willing "
                    "to lead a consortium"
                ),
                lead=lead,
            )
        self._consultation_closed(lead=lead, decision=decision)

    @event("MarketConsultationClosed")
    def _consultation_closed(self, lead: str, decision: Decision) -> None:
        self.consultation_open = False
        self.lead = lead
        self.enter(_PF, decision)

    # -- preconditions ------------------------------------------------------------------

    def register_precondition(self, precondition: str, decision: Decision, **terms: Any) -> None:
        """``terms``: kind, description, responsible, due, target_value and target_unit."""
        self.check("register_precondition", decision)
        existing = self.preconditions.get(precondition)
        if existing is not None and existing["status"] != PreconditionStatus.DROPPED:
            raise AlreadyExistsError(
                N_("precondition '{precondition}' is already registered"), precondition=precondition
            )
        self._precondition_registered(precondition=precondition, decision=decision, **terms)

    @event("PreconditionRegistered")
    def _precondition_registered(
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

    def fulfil_precondition(self, precondition: str, decision: Decision) -> None:
        action = Message(N_("fulfil precondition '{precondition}'"), precondition=precondition)
        self.check_resolution("fulfil_precondition", action, precondition, decision)
        if not decision.evidence:
            raise RuleError(
                N_(
                    "cannot fulfil precondition '{precondition}' without evidence: give at least "
                    "one reference"
                ),
                precondition=precondition,
            )
        self._precondition_fulfilled(precondition=precondition, decision=decision)

    @event("PreconditionFulfilled")
    def _precondition_fulfilled(self, precondition: str, decision: Decision) -> None:
        self.resolve(precondition, PreconditionStatus.FULFILLED, decision)

    def waive_precondition(self, precondition: str, decision: Decision) -> None:
        action = Message(N_("waive precondition '{precondition}'"), precondition=precondition)
        self.check_resolution("waive_precondition", action, precondition, decision)
        self._precondition_waived(precondition=precondition, decision=decision)

    @event("PreconditionWaived")
    def _precondition_waived(self, precondition: str, decision: Decision) -> None:
        self.resolve(precondition, PreconditionStatus.WAIVED, decision)

    def fail_precondition(self, precondition: str, decision: Decision) -> None:
        action = Message(
            N_("record the failure of precondition '{precondition}'"), precondition=precondition
        )
        self.check_resolution("fail_precondition", action, precondition, decision)
        self._precondition_failed(precondition=precondition, decision=decision)

    @event("PreconditionFailed")
    def _precondition_failed(self, precondition: str, decision: Decision) -> None:
        self.resolve(precondition, PreconditionStatus.FAILED, decision)

    def check_resolution(
        self, step: str, action: Message, precondition: str, decision: Decision
    ) -> None:
        self.check(step, decision, action)
        record = self.preconditions.get(precondition)
        if record is None:
            raise NotFoundError(
                N_("cannot {action}: no such precondition ({known})"),
                action=action,
                known=sorted(self.preconditions) or Message(N_("none registered")),
            )
        if record["status"] != PreconditionStatus.OPEN:
            raise RuleError(
                N_("cannot {action}: it is already {status}"),
                action=action,
                status=Term("precondition_status", record["status"]),
            )

    def resolve(self, precondition: str, outcome: PreconditionStatus, decision: Decision) -> None:
        record = self.preconditions[precondition]
        record["status"] = outcome.value
        record["resolved_on"] = decision.effective
        record["resolution"] = decision.reason
        record["evidence"] = list(decision.evidence)
        record["command_id"] = decision.command_id

    # -- consortium ---------------------------------------------------------------------

    def admit_member(self, organisation: str, role: str, decision: Decision) -> None:
        self.check(
            "admit_member",
            decision,
            Message(N_("admit '{organisation}' to the consortium"), organisation=organisation),
        )
        if role == Role.LEAD and organisation != self.lead:
            raise RuleError(
                N_(
                    "cannot admit '{organisation}' as lead: the lead entrepreneur selected in the "
                    "market consultation is '{lead}'"
                ),
                organisation=organisation,
                lead=self.lead,
            )
        self._member_joined(organisation=organisation, role=role, decision=decision)

    @event("ConsortiumMemberJoined")
    def _member_joined(self, organisation: str, role: str, decision: Decision) -> None:
        self.members[organisation] = role

    def agree_arrangement(
        self, arrangement_type: str, shares: list[dict[str, Any]], decision: Decision
    ) -> None:
        self.check("agree_arrangement", decision)
        outsiders = [s["party"] for s in shares if s["party"] not in self.members]
        if outsiders:
            raise RuleError(
                N_("cannot agree the financial arrangement: not consortium members: {outsiders}"),
                outsiders=outsiders,
            )
        for share, words in (
            (
                "cost_share",
                N_(
                    "cannot agree the financial arrangement: cost shares add up to {total} %, "
                    "not 100 %"
                ),
            ),
            (
                "benefit_share",
                N_(
                    "cannot agree the financial arrangement: benefit shares add up to {total} %, "
                    "not 100 %"
                ),
            ),
        ):
            total = sum(float(s[share]) for s in shares)
            if abs(total - 100.0) > SHARE_TOLERANCE:
                raise SharesDoNotAddUpError(words, total=total)
        self._arrangement_agreed(
            arrangement_type=arrangement_type, shares=[dict(s) for s in shares], decision=decision
        )

    @event("FinancialArrangementAgreed")
    def _arrangement_agreed(
        self, arrangement_type: str, shares: list[dict[str, Any]], decision: Decision
    ) -> None:
        self.arrangement = {"type": arrangement_type, "shares": [dict(s) for s in shares]}

    def declare_no_arrangement(self, decision: Decision) -> None:
        self.check("declare_no_arrangement", decision)
        self._no_arrangement_needed(decision=decision)

    @event("FinancialArrangementNotNeeded")
    def _no_arrangement_needed(self, decision: Decision) -> None:
        self.arrangement = {"type": "none", "shares": []}

    def form_consortium(self, decision: Decision, operating_from: date | None = None) -> None:
        self.check("form_consortium", decision, Message(N_("form consortium")))
        self._consortium_formed(decision=decision, operating_from=operating_from)

    @event("ConsortiumFormed")
    def _consortium_formed(self, decision: Decision, operating_from: date | None = None) -> None:
        self.consortium_formed_on = decision.effective
        self.enter(_CF, decision)

    # -- board withdrawal and scale-up ------------------------------------------------------

    def withdraw_board(self, handover_note: str, decision: Decision) -> None:
        self.check("withdraw_board", decision)
        self._board_withdrew(handover_note=handover_note, decision=decision)

    @event("BoardWithdrew")
    def _board_withdrew(self, handover_note: str, decision: Decision) -> None:
        self.handover_note = handover_note
        self.enter(_BW, decision)

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

    def assess_scale_up(
        self,
        ready: bool,
        criteria: str,
        figures: dict[str, float],
        decision: Decision,
        at_risk: bool = False,
    ) -> None:
        self.check("assess_scale_up", decision)  # a stalled one is assessed: at risk
        self._scale_up_assessed(
            ready=ready,
            criteria=criteria,
            figures=dict(figures),
            decision=decision,
            at_risk=at_risk,
        )

    @event(ScaleUpAssessed)
    def _scale_up_assessed(
        self,
        ready: bool,
        criteria: str,
        figures: dict[str, float],
        decision: Decision,
        at_risk: bool = False,
    ) -> None:
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

    def start_scale_up(self, level: str, decision: Decision) -> None:
        self.check("start_scale_up", decision)
        levels = list(ScaleLevel)
        if self.scale_level is not None and levels.index(ScaleLevel(level)) <= levels.index(
            ScaleLevel(self.scale_level)
        ):
            raise RuleError(
                N_("cannot scale up to {level}: already scaled up to {current}"),
                level=Term("scale_level", level),
                current=Term("scale_level", self.scale_level),
            )
        self._scale_up_started(level=level, decision=decision)

    @event("ScaleUpStarted")
    def _scale_up_started(self, level: str, decision: Decision) -> None:
        self.scale_target = level
        self.enter(_SU, decision)

    def complete_scale_up(self, decision: Decision) -> None:
        self.check("complete_scale_up", decision)
        self._scale_up_completed(decision=decision)

    @event("ScaleUpCompleted")
    def _scale_up_completed(self, decision: Decision) -> None:
        self.scale_level = self.scale_target
        self.scale_target = None
        self.enter(_UP, decision)

    def report_impact(self, period: int, figures: dict[str, float], decision: Decision) -> None:
        self.check("report_impact", decision)
        self._impact_reported(period=period, figures=dict(figures), decision=decision)

    @event("ImpactReported")
    def _impact_reported(self, period: int, figures: dict[str, float], decision: Decision) -> None:
        self.impact[str(period)] = dict(figures)

    def escalate(self, concern: str, subject: str, decision: Decision) -> None:
        """A deadline passed: an overdue precondition, or a stall past the threshold."""
        self.check("escalate", decision)
        self._escalated(concern=concern, subject=subject, decision=decision)

    @event("Escalated")
    def _escalated(self, concern: str, subject: str, decision: Decision) -> None:
        self.escalations.append(
            {"on": decision.effective, "concern": concern, "subject": subject, "by": decision.actor}
        )

    # -- side paths ---------------------------------------------------------------------

    def stall(self, decision: Decision) -> None:
        self.check("stall", decision)
        self._stalled(decision=decision)

    @event("Stalled")
    def _stalled(self, decision: Decision) -> None:
        self.status = Status.STALLED.value
        self.status_reason = decision.reason

    def resume(self, decision: Decision) -> None:
        self.check("resume", decision)
        self._resumed(decision=decision)

    @event("Resumed")
    def _resumed(self, decision: Decision) -> None:
        self.status = Status.ACTIVE.value
        self.status_reason = ""

    def abandon(self, decision: Decision) -> None:
        self.check("abandon", decision)
        self._abandoned(decision=decision)

    @event("Abandoned")
    def _abandoned(self, decision: Decision) -> None:
        self.status = Status.ABANDONED.value
        self.status_reason = decision.reason
        self.abandoned_at_stage = self.stage

    def reopen(self, decision: Decision) -> None:
        self.check("reopen", decision)
        self._reopened(decision=decision)

    @event("Reopened")
    def _reopened(self, decision: Decision) -> None:
        self.status = Status.ACTIVE.value
        self.status_reason = ""
        self.abandoned_at_stage = None

    class FellBack(DecisionRecord.Event):
        """Version 2 records the consequence: the preconditions the fall-back dropped.
        A version-1 event did not; its consequence is derived as it was then."""

        class_version = 2
        to_stage: str
        dropped: list[str] | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["dropped"] = None  # not recorded: derived when applied (legacy_dropped)

    def fall_back(self, to_stage: str, decision: Decision) -> None:
        target = Stage(to_stage)
        self.check(
            "fall_back",
            decision,
            Message(N_("fall back to {stage}"), stage=Term("stage", target)),
        )
        if target not in FALLBACK_STAGES:
            raise RuleError(
                N_("cannot fall back to {stage}: fall back to one of {allowed}"),
                stage=Term("stage", target),
                allowed=terms("stage", FALLBACK_STAGES),
            )
        current = Stage(self.stage)
        if target.rank >= current.rank:
            raise WrongStageError(
                N_(
                    "cannot fall back from {current} to {stage}: only to an earlier stage, and "
                    "not once scale-up has started"
                ),
                current=Term("stage", current),
                stage=Term("stage", target),
            )
        dropped = legacy_dropped(self.preconditions) if target.rank <= _MC.rank else []
        self._fell_back(to_stage=to_stage, decision=decision, dropped=dropped)

    @event(FellBack)
    def _fell_back(self, to_stage: str, decision: Decision, dropped: list[str] | None) -> None:
        target = Stage(to_stage)
        self.consortium_formed_on = None
        self.assessments = []  # a scale-up assessment does not outlive the consortium it judged
        if target.rank <= _MC.rank:
            self.consultation_open = target == _MC
            self.lead = None
            self.members = {}
            self.arrangement = None
        if dropped is None:  # a version-1 event: derived as it was then
            dropped = legacy_dropped(self.preconditions) if target.rank <= _MC.rank else []
        for name in dropped:
            self.preconditions[name]["status"] = PreconditionStatus.DROPPED.value
        if target == _ES:
            self.chosen_options = []
            self.responses = {}
        self.enter(target, decision)

    # -- the record itself: corrections ----------------------------------------------------

    def correct_decision(self, corrects: str, changes: dict[str, Any], decision: Decision) -> None:
        """Correct a recorded decision's words or references (a typo in a reason, a wrong
        evidence reference): the correction is its own decision, naming the one it corrects;
        the corrected decision stays in the record as it was."""
        action = Message(N_("correct decision '{corrects}'"), corrects=corrects)
        self.check("correct_decision", decision, action)
        if self.version_of_command(corrects) is None:
            raise NotFoundError(
                N_("cannot {action}: no decision on initiative '{initiative}' has that command id"),
                action=action,
                initiative=self.initiative_id,
            )
        original = self.correction_of(corrects)
        if original is not None:
            raise RuleError(
                N_("cannot {action}: it is a correction; correct '{original}' again instead"),
                action=action,
                original=original,
            )
        unknown = sorted(set(changes) - set(CORRECTABLE))
        if unknown:
            raise RuleError(
                N_("cannot {action}: a correction changes {correctable}, not {unknown}"),
                action=action,
                correctable=either(CORRECTABLE),
                unknown=unknown,
            )
        if not changes:
            raise RuleError(
                N_("cannot {action}: a correction changes {correctable}"),
                action=action,
                correctable=either(CORRECTABLE),
            )
        self._decision_corrected(corrects=corrects, changes=dict(changes), decision=decision)

    @event("DecisionCorrected")
    def _decision_corrected(
        self, corrects: str, changes: dict[str, Any], decision: Decision
    ) -> None:
        self.corrections.setdefault(corrects, []).append(
            {
                "by": decision.command_id,
                "on": decision.effective,
                "why": decision.reason,
                "actor": decision.actor,
                "changes": dict(changes),
            }
        )
        for record in self.preconditions.values():  # a resolution shows its corrected words
            if record.get("command_id") == corrects:
                if "reason" in changes:
                    record["resolution"] = changes["reason"]
                if "evidence" in changes:
                    record["evidence"] = list(changes["evidence"])

    def correction_of(self, command_id: str) -> str | None:
        """The command id a correction corrects, if ``command_id`` is a correction."""
        for corrected, entries in self.corrections.items():
            if any(entry["by"] == command_id for entry in entries):
                return corrected
        return None

    def corrected(self, command_id: str, field: str, recorded: Any) -> Any:
        """A decision's ``reason`` or ``evidence`` as corrected (the latest correction)."""
        for entry in reversed(self.corrections.get(command_id, [])):
            if field in entry["changes"]:
                return entry["changes"][field]
        return recorded

    # -- state ------------------------------------------------------------------------------

    def enter(self, stage: Stage, decision: Decision) -> None:
        self.stage = stage.value
        self.stage_since = decision.effective
        self.path.append([stage.value, decision.effective])


def legacy_dropped(preconditions: dict[str, dict[str, Any]]) -> list[str]:
    """The preconditions a fall-back to market consultation or earlier drops: the open and
    failed ones. A version-2 FellBack records them; a version-1 one is derived here."""
    return [
        name
        for name, record in preconditions.items()
        if record["status"] in (PreconditionStatus.OPEN, PreconditionStatus.FAILED)
    ]
