"""Initiative events to rows: the initiative, its preconditions and impact reports."""

from __future__ import annotations

from typing import Any

from domain.values import FALLBACK_STAGES, PreconditionStatus, Stage, Status
from projections.projector.shared import Handler, StoreInconsistentError, Subject
from projections.working_set import Row, WorkingSet


def apply(ws: WorkingSet, event: Any, handler: Handler | None) -> Subject:
    """Apply an initiative event to its rows; the initiative is whom it is about."""
    row = _initiative_row(ws, event)
    if handler is not None:
        handler(ws, event, row)
    row = ws.get("initiatives", ws.initiative_by_aggregate[event.originator_id.hex]) or row
    _decided(ws, event, row)
    return Subject("initiative", row["initiative_id"], row["programme_id"])


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
    latest = row.get("last_effective")
    if latest is None or e.decision.effective > latest:  # a late entry leaves the latest
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
            "resolved_by": "",
        },
    )
    _count_preconditions(ws, row)


def resolved_as(outcome: PreconditionStatus) -> Handler:
    def resolved(ws: WorkingSet, e: Any, row: Row) -> None:
        record = ws.get("preconditions", row["initiative_id"], e.precondition)
        if record is None:
            raise StoreInconsistentError(f"precondition {e.precondition} was never registered")
        record.update(
            status=outcome.value,
            resolved_on=e.decision.effective,
            resolution=e.decision.reason,
            evidence=list(e.decision.evidence),
            resolved_by=e.decision.command_id,
        )
        ws.touch("preconditions", record)
        _count_preconditions(ws, row)

    return resolved


def decision_corrected(ws: WorkingSet, e: Any, row: Row) -> None:
    """A correction of a decision's words or references: a precondition it resolved shows
    the corrected ones (the decision log keeps both; projections.queries marks them)."""
    for record in ws.preconditions_by_initiative[row["initiative_id"]]:
        if record.get("resolved_by") == e.corrects:
            if "reason" in e.changes:
                record["resolution"] = e.changes["reason"]
            if "evidence" in e.changes:
                record["evidence"] = list(e.changes["evidence"])
            ws.touch("preconditions", record)


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


def status_set(status: Status, keep_reason: bool) -> Handler:
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
    dropped = e.dropped  # None: a version-1 event, which did not say what it dropped
    if dropped is None:
        dropped = legacy_dropped_preconditions(ws, row, target)
    _drop_preconditions(ws, row, dropped)
    if target == Stage.EXPERT_SCAN:
        row["chosen_options"] = []
        row["best_circularity_level"] = None
        row["respondents"] = []
    _enter(row, target, e)


def legacy_dropped_preconditions(ws: WorkingSet, row: Row, target: Stage) -> list[str]:
    """What a fall-back recorded before the event named its consequence (version 1, upcast
    with ``dropped = None``) dropped, derived as it was then: the open and failed
    preconditions, on a fall-back to market consultation or earlier."""
    if target.rank > Stage.MARKET_CONSULTATION.rank:
        return []
    return [
        record["precondition"]
        for record in ws.preconditions_by_initiative[row["initiative_id"]]
        if record["status"] in (PreconditionStatus.OPEN, PreconditionStatus.FAILED)
    ]


def _drop_preconditions(ws: WorkingSet, row: Row, names: list[str]) -> None:
    for name in names:
        record = ws.get("preconditions", row["initiative_id"], name)
        if record is None:
            raise StoreInconsistentError(
                f"a fall-back dropped precondition {name}, never registered"
            )
        record["status"] = PreconditionStatus.DROPPED.value
        ws.touch("preconditions", record)
    if names:
        _count_preconditions(ws, row)
