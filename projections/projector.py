"""Event to rows: how each decision changes the read models."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from domain.authority import Authority
from domain.initiative import Initiative
from domain.procurement import Commitment, Community
from domain.programme import Programme
from domain.values import (
    FALLBACK_STAGES,
    PreconditionStatus,
    Stage,
    Status,
)
from projections.working_set import Row, WorkingSet


class StoreInconsistentError(RuntimeError):
    """An event the read models cannot apply: the store holds what no command could record
    (a measurement of a target never set, ...). Stops the runner; nothing of the batch is
    written."""


Handler = Callable[[WorkingSet, Any, Row], None]
_BASE_FIELDS = {"originator_id", "originator_version", "timestamp", "decision", "originator_topic"}


@lru_cache(maxsize=256)
def step_words(event_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", " ", event_name).lower()


def project(ws: WorkingSet, notification_id: int, event: Any) -> None:
    """Apply one event to the working set: its own rows, and its line in the decision log."""
    handler = HANDLERS.get(type(event).__qualname__)
    if isinstance(event, Initiative.Event):
        row = _initiative_row(ws, event)
        if handler is not None:
            handler(ws, event, row)
        row = ws.get("initiatives", ws.initiative_by_aggregate[event.originator_id.hex]) or row
        _decided(ws, event, row)
        subject_kind, subject_id, programme_id = (
            "initiative",
            row["initiative_id"],
            row["programme_id"],
        )
    elif isinstance(event, Programme.Event):
        if handler is not None:
            handler(ws, event, {})
        programme = _programme_row(ws, event)
        programme["version"] = event.originator_version
        ws.touch("programmes", programme)
        subject_kind, subject_id = "programme", programme["programme_id"]
        programme_id = subject_id
    elif isinstance(event, Commitment.Event | Community.Event):
        if handler is not None:
            handler(ws, event, {})
        own = ws.procurement_by_aggregate[event.originator_id.hex]
        subject_kind = "commitment" if isinstance(event, Commitment.Event) else "community"
        subject_id, programme_id = own[f"{subject_kind}_id"], own["programme_id"]
    elif isinstance(event, Authority.Event):  # who may decide what: in the log, no rows
        subject_kind, programme_id = "authority", ""
        subject_id = getattr(event, "identity", None) or getattr(event, "manager", "register")
    else:
        return
    decision = event.decision
    ws.append(
        "decisions",
        {
            "notification_id": notification_id,
            "subject_kind": subject_kind,
            "subject_id": subject_id,
            "programme_id": programme_id,
            "version": event.originator_version,
            "event": type(event).__name__,
            "step": step_words(type(event).__name__),
            "actor": decision.actor,
            "recorded_by": decision.recorder,
            "authority": decision.authority,
            "reason": decision.reason,
            "evidence": list(decision.evidence),
            "effective": decision.effective,
            "recorded_at": event.timestamp,
            "command_id": decision.command_id,
            "details": {k: v for k, v in vars(event).items() if k not in _BASE_FIELDS},
        },
    )


# -- programmes ------------------------------------------------------------------------


def _programme_row(ws: WorkingSet, event: Any) -> Row:
    found = ws.programme_by_aggregate.get(event.originator_id.hex)
    if found is None:
        raise StoreInconsistentError(f"programme {event.originator_id} was never created")
    return found


def programme_created(ws: WorkingSet, e: Any, _: Row) -> None:
    ws.put(
        "programmes",
        {
            "programme_id": e.programme_id,
            "aggregate_id": e.originator_id.hex,
            "name": e.name,
            "region": e.region,
            "founded": e.decision.effective,
            "current_phase": None,
            "phases": {},
            "member_count": len(set(e.members)),
            "scale_up_criteria": {},
            "demonstration": getattr(e, "demonstration", False),  # older events: no
            "version": 1,
        },
    )


def member_added(ws: WorkingSet, e: Any, _: Row) -> None:
    programme = _programme_row(ws, e)
    programme["member_count"] += 1  # re-adding a member changes its kind, counted again
    ws.touch("programmes", programme)


def phase_changed(ws: WorkingSet, e: Any, _: Row) -> None:
    programme = _programme_row(ws, e)
    record = programme["phases"].setdefault(str(e.phase), {})
    record[e.phase_status] = e.decision.effective.isoformat()
    if e.approved_by:
        record["approved_by"] = list(e.approved_by)
    started = [int(p) for p, r in programme["phases"].items() if "started" in r]
    programme["current_phase"] = max(started) if started else None
    ws.touch("programmes", programme)


def target_set(ws: WorkingSet, e: Any, _: Row) -> None:
    programme = _programme_row(ws, e)
    existing = ws.get("targets", programme["programme_id"], e.key) or {}
    ws.put(
        "targets",
        {
            "programme_id": programme["programme_id"],
            "key": e.key,
            "description": e.description,
            "unit": e.unit,
            "baseline": e.baseline,
            "target": e.target,
            "deadline": e.deadline,
            "source": e.source,
            "measure": e.measure,  # version 1 events are upcast: None
            "include_procurement_trajectories": e.include_procurement_trajectories,
            "measured_value": existing.get("measured_value"),
            "measured_on": existing.get("measured_on"),
            "measured_source": existing.get("measured_source"),
        },
    )


def target_measured(ws: WorkingSet, e: Any, _: Row) -> None:
    programme = _programme_row(ws, e)
    target = ws.get("targets", programme["programme_id"], e.key)
    if target is None:
        raise StoreInconsistentError(f"target {e.key} measured but never set")
    target.update(
        measured_value=e.value, measured_on=e.decision.effective, measured_source=e.source
    )
    ws.touch("targets", target)


def scale_up_criteria_set(ws: WorkingSet, e: Any, _: Row) -> None:
    programme = _programme_row(ws, e)
    programme["scale_up_criteria"] = dict(e.criteria)
    ws.touch("programmes", programme)


def stream_registered(ws: WorkingSet, e: Any, _: Row) -> None:
    programme = _programme_row(ws, e)
    ws.put(
        "streams",
        {
            "programme_id": programme["programme_id"],
            "stream": e.stream,
            "name": e.name,
            "parent": e.parent,
        },
    )


def mandate_granted(ws: WorkingSet, e: Any, _: Row) -> None:
    programme_id = _programme_row(ws, e)["programme_id"]
    for stream in e.streams:
        held = [
            m
            for m in ws.where("mandates", programme_id=programme_id, broker=e.broker, stream=stream)
            if m["until"] is None
        ]
        if not held:  # granting a mandate that holds already changes nothing
            ws.put(
                "mandates",
                {
                    "programme_id": programme_id,
                    "broker": e.broker,
                    "stream": stream,
                    "granted_from": e.decision.effective,
                    "until": None,
                },
            )


def mandate_revoked(ws: WorkingSet, e: Any, _: Row) -> None:
    programme_id = _programme_row(ws, e)["programme_id"]
    for stream in e.streams:
        for mandate in ws.where(
            "mandates", programme_id=programme_id, broker=e.broker, stream=stream
        ):
            if mandate["until"] is None:
                mandate["until"] = e.decision.effective
                ws.touch("mandates", mandate)


# -- initiatives -------------------------------------------------------------------------


def _initiative_row(ws: WorkingSet, event: Any) -> Row:
    initiative_id = ws.initiative_by_aggregate.get(event.originator_id.hex)
    if initiative_id is None:
        if type(event).__name__ != "Proposed":
            raise StoreInconsistentError(f"initiative {event.originator_id} was never proposed")
        return {}
    row = ws.get("initiatives", initiative_id)
    if row is None:
        raise StoreInconsistentError(f"initiative {initiative_id} has no row")
    return row


def _decided(ws: WorkingSet, e: Any, row: Row) -> None:
    row["version"] = e.originator_version
    row["last_effective"] = e.decision.effective
    row["last_recorded_at"] = e.timestamp
    ws.touch("initiatives", row)


def _enter(row: Row, stage: Stage, e: Any) -> None:
    row["stage"] = stage.value
    row["stage_since"] = e.decision.effective


def proposed(ws: WorkingSet, e: Any, _: Row) -> None:
    stream = ws.get("streams", e.programme_id, e.stream)
    on = e.decision.effective
    ws.initiative_by_aggregate[e.originator_id.hex] = e.initiative_id
    ws.put(
        "initiatives",
        {
            "initiative_id": e.initiative_id,
            "aggregate_id": e.originator_id.hex,
            "programme_id": e.programme_id,
            "stream": e.stream,
            "parent_stream": stream["parent"] if stream else None,
            "title": e.title,
            "stage": Stage.PROPOSED.value,
            "stage_since": on,
            "status": Status.ACTIVE.value,
            "status_since": on,
            "status_reason": "",
            "proposed_by": e.decision.actor,
            "broker": e.decision.actor,
            "lead": None,
            "options": {},
            "chosen_options": [],
            "best_circularity_level": None,
            "consultation_open": False,
            "respondents": [],
            "members": {},
            "arrangement_type": None,
            "consortium_formed_on": None,
            "operating_from": None,
            "withdrawn_on": None,
            "scale_level": None,
            "scale_target": None,
            "last_assessment_on": None,
            "last_assessment_ready": None,
            "at_risk": False,
            "escalations": 0,
            "last_escalated_on": None,
            "open_preconditions": 0,
            "failed_preconditions": 0,
            "version": 1,
            "last_effective": on,
            "last_recorded_at": e.timestamp,
        },
    )


def scan_started(ws: WorkingSet, e: Any, row: Row) -> None:
    _enter(row, Stage.EXPERT_SCAN, e)


def option_recorded(ws: WorkingSet, e: Any, row: Row) -> None:
    row["options"][e.option] = e.circularity_level


def scan_completed(ws: WorkingSet, e: Any, row: Row) -> None:
    row["chosen_options"] = list(e.chosen_options)
    levels = sorted(row["options"][o] for o in e.chosen_options)
    row["best_circularity_level"] = levels[0] if levels else None
    _enter(row, Stage.MARKET_CONSULTATION, e)


def consultation_opened(ws: WorkingSet, e: Any, row: Row) -> None:
    row["consultation_open"] = True


def response_recorded(ws: WorkingSet, e: Any, row: Row) -> None:
    if e.company not in row["respondents"]:  # a second response replaces the first
        row["respondents"].append(e.company)


def consultation_closed(ws: WorkingSet, e: Any, row: Row) -> None:
    row["consultation_open"] = False
    row["lead"] = e.lead
    _enter(row, Stage.PRECONDITION_FULFILMENT, e)


def precondition_registered(ws: WorkingSet, e: Any, row: Row) -> None:
    ws.put(
        "preconditions",
        {
            "initiative_id": row["initiative_id"],
            "precondition": e.precondition,
            "aggregate_id": row["aggregate_id"],
            "programme_id": row["programme_id"],
            "kind": e.kind,
            "description": e.description,
            "responsible": e.responsible,
            "due": e.due,
            "target_value": e.target_value,
            "target_unit": e.target_unit,
            "status": PreconditionStatus.OPEN.value,
            "registered_on": e.decision.effective,
            "resolved_on": None,
            "resolution": "",
            "evidence": [],
        },
    )
    _count_preconditions(ws, row)


def _resolver(outcome: PreconditionStatus) -> Handler:
    def resolved(ws: WorkingSet, e: Any, row: Row) -> None:
        record = ws.get("preconditions", row["initiative_id"], e.precondition)
        if record is None:
            raise StoreInconsistentError(f"precondition {e.precondition} was never registered")
        record.update(
            status=outcome.value,
            resolved_on=e.decision.effective,
            resolution=e.decision.reason,
            evidence=list(e.decision.evidence),
        )
        ws.touch("preconditions", record)
        _count_preconditions(ws, row)

    return resolved


def _count_preconditions(ws: WorkingSet, row: Row) -> None:
    statuses = [p["status"] for p in ws.preconditions_by_initiative[row["initiative_id"]]]
    row["open_preconditions"] = statuses.count(PreconditionStatus.OPEN.value)
    row["failed_preconditions"] = statuses.count(PreconditionStatus.FAILED.value)


def member_joined(ws: WorkingSet, e: Any, row: Row) -> None:
    row["members"][e.organisation] = e.role


def arrangement_agreed(ws: WorkingSet, e: Any, row: Row) -> None:
    row["arrangement_type"] = e.arrangement_type


def no_arrangement(ws: WorkingSet, e: Any, row: Row) -> None:
    row["arrangement_type"] = "none"


def consortium_formed(ws: WorkingSet, e: Any, row: Row) -> None:
    row["consortium_formed_on"] = e.decision.effective
    row["operating_from"] = getattr(e, "operating_from", None) or e.decision.effective
    _enter(row, Stage.CONSORTIUM_FORMED, e)


def board_withdrew(ws: WorkingSet, e: Any, row: Row) -> None:
    row["withdrawn_on"] = e.decision.effective
    _enter(row, Stage.BOARD_WITHDRAWN, e)


def scale_up_assessed(ws: WorkingSet, e: Any, row: Row) -> None:
    row["last_assessment_on"] = e.decision.effective
    row["last_assessment_ready"] = e.ready
    row["at_risk"] = e.at_risk  # version 1 events are upcast: False


def scale_up_started(ws: WorkingSet, e: Any, row: Row) -> None:
    row["scale_target"] = e.level
    _enter(row, Stage.SCALING_UP, e)


def scale_up_completed(ws: WorkingSet, e: Any, row: Row) -> None:
    row["scale_level"] = row["scale_target"]
    row["scale_target"] = None
    _enter(row, Stage.SCALED_UP, e)


def escalated(ws: WorkingSet, e: Any, row: Row) -> None:
    row["escalations"] += 1
    row["last_escalated_on"] = e.decision.effective


def impact_reported(ws: WorkingSet, e: Any, row: Row) -> None:
    ws.put(
        "impact_reports",
        {
            "initiative_id": row["initiative_id"],
            "period": e.period,
            "programme_id": row["programme_id"],
            "reported_on": e.decision.effective,
            "jobs_fte": e.figures.get("jobs_fte"),
            "companies_started": e.figures.get("companies_started"),
            "tonnes_processed_per_year": e.figures.get("tonnes_processed_per_year"),
            "raw_material_import_avoided_t": e.figures.get("raw_material_import_avoided_t"),
            "environmental_pressure_reduction_t_co2e": e.figures.get(
                "environmental_pressure_reduction_t_co2e"
            ),
        },
    )


def _status(status: Status, keep_reason: bool) -> Handler:
    def changed(ws: WorkingSet, e: Any, row: Row) -> None:
        row["status"] = status.value
        row["status_since"] = e.decision.effective
        row["status_reason"] = e.decision.reason if keep_reason else ""

    return changed


def fell_back(ws: WorkingSet, e: Any, row: Row) -> None:
    target = Stage(e.to_stage)
    if target not in FALLBACK_STAGES:
        raise StoreInconsistentError(f"a fall-back to {target.label}, which is no fall-back stage")
    row["consortium_formed_on"] = None
    row["operating_from"] = None
    row["withdrawn_on"] = None
    row["last_assessment_on"] = None
    row["last_assessment_ready"] = None
    row["at_risk"] = False
    if target.rank <= Stage.MARKET_CONSULTATION.rank:
        row["consultation_open"] = target == Stage.MARKET_CONSULTATION
        row["lead"] = None
        row["members"] = {}
        row["arrangement_type"] = None
        for record in ws.preconditions_by_initiative[row["initiative_id"]]:
            if record["status"] in (PreconditionStatus.OPEN, PreconditionStatus.FAILED):
                record["status"] = PreconditionStatus.DROPPED.value
                ws.touch("preconditions", record)
        _count_preconditions(ws, row)
    if target == Stage.EXPERT_SCAN:
        row["chosen_options"] = []
        row["best_circularity_level"] = None
        row["respondents"] = []
    _enter(row, target, e)


# -- circular procurement -------------------------------------------------------------------


def committed(ws: WorkingSet, e: Any, _: Row) -> None:
    ws.put(
        "commitments",
        {
            "commitment_id": e.commitment_id,
            "aggregate_id": e.originator_id.hex,
            "programme_id": e.programme_id,
            "organisation": e.organisation,
            "organisation_kind": e.organisation_kind,
            "path": list(e.path),
            "committed_on": e.decision.effective,
            "categories": [],
        },
    )


def category_adopted(ws: WorkingSet, e: Any, _: Row) -> None:
    commitment = ws.procurement_by_aggregate[e.originator_id.hex]
    commitment["categories"].append(e.category)
    ws.touch("commitments", commitment)


def spend_reported(ws: WorkingSet, e: Any, _: Row) -> None:
    commitment = ws.procurement_by_aggregate[e.originator_id.hex]
    ws.put(
        "spend_reports",
        {
            "commitment_id": commitment["commitment_id"],
            "year": e.year,
            "category": e.category,
            "programme_id": commitment["programme_id"],
            "total_spend_eur": e.total_spend_eur,
            "circular_spend_eur": e.circular_spend_eur,
            "investment_eur": e.investment_eur,
            "reported_on": e.decision.effective,
        },
    )


def community_founded(ws: WorkingSet, e: Any, _: Row) -> None:
    ws.put(
        "communities",
        {
            "community_id": e.community_id,
            "aggregate_id": e.originator_id.hex,
            "programme_id": e.programme_id,
            "name": e.name,
            "moderator": e.moderator,
            "members": {},
            "member_kinds": {},
            "founded_on": e.decision.effective,
        },
    )


def community_joined(ws: WorkingSet, e: Any, _: Row) -> None:
    community = ws.procurement_by_aggregate[e.originator_id.hex]
    community["members"][e.organisation] = e.role
    community["member_kinds"][e.organisation] = getattr(e, "organisation_kind", "other")
    ws.touch("communities", community)


def meeting_held(ws: WorkingSet, e: Any, _: Row) -> None:
    community = ws.procurement_by_aggregate[e.originator_id.hex]
    ws.put(
        "community_meetings",
        {
            "community_id": community["community_id"],
            "meeting": e.meeting,
            "programme_id": community["programme_id"],
            "held_on": e.decision.effective,
            "attendees": len(e.attendees),
            "topic": getattr(e, "topic", ""),
        },
    )


def trajectory_started(ws: WorkingSet, e: Any, _: Row) -> None:
    community = ws.procurement_by_aggregate[e.originator_id.hex]
    ws.put(
        "joint_trajectories",
        {
            "community_id": community["community_id"],
            "trajectory": e.trajectory,
            "programme_id": community["programme_id"],
            "category": e.category,
            "participants": len(e.participants),
            "invested_eur": e.invested_eur,
            "started_on": e.decision.effective,
        },
    )


HANDLERS: dict[str, Handler] = {  # by event class: Aggregate.EventName
    "Programme.Created": programme_created,
    "Programme.MemberAdded": member_added,
    "Programme.PhaseChanged": phase_changed,
    "Programme.TargetSet": target_set,
    "Programme.TargetMeasured": target_measured,
    "Programme.StreamRegistered": stream_registered,
    "Programme.ScaleUpCriteriaSet": scale_up_criteria_set,
    "Programme.MandateGranted": mandate_granted,
    "Programme.MandateRevoked": mandate_revoked,
    "Initiative.Proposed": proposed,
    "Initiative.ExpertScanStarted": scan_started,
    "Initiative.InnovativeOptionRecorded": option_recorded,
    "Initiative.ExpertScanCompleted": scan_completed,
    "Initiative.MarketConsultationOpened": consultation_opened,
    "Initiative.ConsultationResponseRecorded": response_recorded,
    "Initiative.MarketConsultationClosed": consultation_closed,
    "Initiative.PreconditionRegistered": precondition_registered,
    "Initiative.PreconditionFulfilled": _resolver(PreconditionStatus.FULFILLED),
    "Initiative.PreconditionWaived": _resolver(PreconditionStatus.WAIVED),
    "Initiative.PreconditionFailed": _resolver(PreconditionStatus.FAILED),
    "Initiative.ConsortiumMemberJoined": member_joined,
    "Initiative.FinancialArrangementAgreed": arrangement_agreed,
    "Initiative.FinancialArrangementNotNeeded": no_arrangement,
    "Initiative.ConsortiumFormed": consortium_formed,
    "Initiative.BoardWithdrew": board_withdrew,
    "Initiative.ScaleUpAssessed": scale_up_assessed,
    "Initiative.ScaleUpStarted": scale_up_started,
    "Initiative.ScaleUpCompleted": scale_up_completed,
    "Initiative.ImpactReported": impact_reported,
    "Initiative.Escalated": escalated,
    "Initiative.Stalled": _status(Status.STALLED, keep_reason=True),
    "Initiative.Resumed": _status(Status.ACTIVE, keep_reason=False),
    "Initiative.Abandoned": _status(Status.ABANDONED, keep_reason=True),
    "Initiative.Reopened": _status(Status.ACTIVE, keep_reason=False),
    "Initiative.FellBack": fell_back,
    "Commitment.Committed": committed,
    "Commitment.CategoryAdopted": category_adopted,
    "Commitment.SpendReported": spend_reported,
    "Community.Founded": community_founded,
    "Community.MemberJoined": community_joined,
    "Community.MeetingHeld": meeting_held,
    "Community.JointTrajectoryStarted": trajectory_started,
}
