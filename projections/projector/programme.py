"""Programme events to rows: the programme, its streams, targets and brokers' mandates."""

from __future__ import annotations

from typing import Any

from projections.projector.shared import Handler, StoreInconsistentError, Subject
from projections.working_set import Row, WorkingSet


def apply(ws: WorkingSet, event: Any, handler: Handler | None) -> Subject:
    """Apply a programme event to its rows; the programme is whom it is about."""
    if handler is not None:
        handler(ws, event, {})
    programme = _programme_row(ws, event)
    programme["version"] = event.originator_version
    ws.touch("programmes", programme)
    return Subject("programme", programme["programme_id"], programme["programme_id"])


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


def publication_set(ws: WorkingSet, e: Any, _: Row) -> None:
    """No rows of its own: `kringloop publish` reads the decision from the decision log."""
