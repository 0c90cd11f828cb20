"""Circular procurement events to rows: commitments with their spend reports, and
communities with their meetings and joint trajectories."""

from __future__ import annotations

from typing import Any

from domain.procurement import Commitment
from projections.projector.shared import Handler, Subject
from projections.working_set import Row, WorkingSet


def apply(ws: WorkingSet, event: Any, handler: Handler | None) -> Subject:
    """Apply a commitment's or a community's event to its rows; it is whom it is about."""
    if handler is not None:
        handler(ws, event, {})
    own = ws.procurement_by_aggregate[event.originator_id.hex]
    kind = "commitment" if isinstance(event, Commitment.Event) else "community"
    return Subject(kind, own[f"{kind}_id"], own["programme_id"])


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


def put_under_parent(ws: WorkingSet, e: Any, table: str, **fields: Any) -> None:
    """A new row under the commitment or community that ``e`` happened to, keyed by the
    parent's id and carrying its programme."""
    parent = ws.procurement_by_aggregate[e.originator_id.hex]
    key = "commitment_id" if isinstance(e, Commitment.Event) else "community_id"
    ws.put(table, {key: parent[key], "programme_id": parent["programme_id"], **fields})


def spend_reported(ws: WorkingSet, e: Any, _: Row) -> None:
    put_under_parent(
        ws,
        e,
        "spend_reports",
        year=e.year,
        category=e.category,
        total_spend_eur=e.total_spend_eur,
        circular_spend_eur=e.circular_spend_eur,
        investment_eur=e.investment_eur,
        reported_on=e.decision.effective,
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
    put_under_parent(
        ws,
        e,
        "community_meetings",
        meeting=e.meeting,
        held_on=e.decision.effective,
        attendees=len(e.attendees),
        topic=getattr(e, "topic", ""),
    )


def trajectory_started(ws: WorkingSet, e: Any, _: Row) -> None:
    put_under_parent(
        ws,
        e,
        "joint_trajectories",
        trajectory=e.trajectory,
        category=e.category,
        participants=len(e.participants),
        invested_eur=e.invested_eur,
        started_on=e.decision.effective,
    )
