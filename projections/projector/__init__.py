"""Event to rows: how each decision changes the read models. One module per aggregate
(programme, initiative, procurement); the registry below names the handler of every event."""

from __future__ import annotations

from typing import Any

from domain.authority import Authority
from domain.initiative import Initiative
from domain.procurement import Commitment, Community
from domain.programme import Programme
from domain.values import PreconditionStatus, Status
from projections.projector import initiative, procurement, programme
from projections.projector.shared import (
    Handler,
    StoreInconsistentError,
    Subject,
    log_decision,
    step_words,
)
from projections.working_set import WorkingSet

__all__ = ["HANDLERS", "Handler", "StoreInconsistentError", "project", "step_words"]


def project(ws: WorkingSet, notification_id: int, event: Any) -> None:
    """Apply one event to the working set: its own rows, and its line in the decision log."""
    handler = HANDLERS.get(type(event).__qualname__)
    if isinstance(event, Initiative.Event):
        subject = initiative.apply(ws, event, handler)
    elif isinstance(event, Programme.Event):
        subject = programme.apply(ws, event, handler)
    elif isinstance(event, Commitment.Event | Community.Event):
        subject = procurement.apply(ws, event, handler)
    elif isinstance(event, Authority.Event):  # who may decide what: in the log, no rows
        # whom it is about: a role's holder or a person named or forgotten; else the manager
        identity: Any = getattr(event, "identity", None) or getattr(event, "subject", None)
        subject = Subject("authority", identity or getattr(event, "manager", "register"), "")
    else:
        return
    log_decision(ws, notification_id, event, subject)


HANDLERS: dict[str, Handler] = {  # by event class: Aggregate.EventName
    "Programme.Created": programme.programme_created,
    "Programme.MemberAdded": programme.member_added,
    "Programme.PhaseChanged": programme.phase_changed,
    "Programme.TargetSet": programme.target_set,
    "Programme.TargetMeasured": programme.target_measured,
    "Programme.StreamRegistered": programme.stream_registered,
    "Programme.ScaleUpCriteriaSet": programme.scale_up_criteria_set,
    "Programme.MandateGranted": programme.mandate_granted,
    "Programme.MandateRevoked": programme.mandate_revoked,
    "Programme.PublicationSet": programme.publication_set,
    "Initiative.Proposed": initiative.proposed,
    "Initiative.ExpertScanStarted": initiative.scan_started,
    "Initiative.InnovativeOptionRecorded": initiative.option_recorded,
    "Initiative.ExpertScanCompleted": initiative.scan_completed,
    "Initiative.MarketConsultationOpened": initiative.consultation_opened,
    "Initiative.ConsultationResponseRecorded": initiative.response_recorded,
    "Initiative.MarketConsultationClosed": initiative.consultation_closed,
    "Initiative.PreconditionRegistered": initiative.precondition_registered,
    "Initiative.PreconditionFulfilled": initiative.resolved_as(PreconditionStatus.FULFILLED),
    "Initiative.PreconditionWaived": initiative.resolved_as(PreconditionStatus.WAIVED),
    "Initiative.PreconditionFailed": initiative.resolved_as(PreconditionStatus.FAILED),
    "Initiative.ConsortiumMemberJoined": initiative.member_joined,
    "Initiative.FinancialArrangementAgreed": initiative.arrangement_agreed,
    "Initiative.FinancialArrangementNotNeeded": initiative.no_arrangement,
    "Initiative.ConsortiumFormed": initiative.consortium_formed,
    "Initiative.BoardWithdrew": initiative.board_withdrew,
    "Initiative.ScaleUpAssessed": initiative.scale_up_assessed,
    "Initiative.ScaleUpStarted": initiative.scale_up_started,
    "Initiative.ScaleUpCompleted": initiative.scale_up_completed,
    "Initiative.ImpactReported": initiative.impact_reported,
    "Initiative.Escalated": initiative.escalated,
    "Initiative.Stalled": initiative.status_set(Status.STALLED, keep_reason=True),
    "Initiative.Resumed": initiative.status_set(Status.ACTIVE, keep_reason=False),
    "Initiative.Abandoned": initiative.status_set(Status.ABANDONED, keep_reason=True),
    "Initiative.Reopened": initiative.status_set(Status.ACTIVE, keep_reason=False),
    "Initiative.FellBack": initiative.fell_back,
    "Initiative.DecisionCorrected": initiative.decision_corrected,
    "Commitment.Committed": procurement.committed,
    "Commitment.CategoryAdopted": procurement.category_adopted,
    "Commitment.SpendReported": procurement.spend_reported,
    "Community.Founded": procurement.community_founded,
    "Community.MemberJoined": procurement.community_joined,
    "Community.MeetingHeld": procurement.meeting_held,
    "Community.JointTrajectoryStarted": procurement.trajectory_started,
}
