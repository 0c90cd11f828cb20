"""Read-side queries of circular procurement: the regional roadmap (each organisation's
circular share per year against its path), totals per category, community activity, and
the headline figures of the programme monitor."""

from __future__ import annotations

import json
from collections import defaultdict
from itertools import pairwise
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, func, select

from domain.engine import today_in_programme_tz
from projections.progress import programme_rows
from projections.store import ReadStore
from projections.tables import (
    CommitmentRow,
    CommunityRow,
    InitiativeRow,
    MeetingRow,
    SpendRow,
    TrajectoryRow,
)

MILESTONE_MET = "milestone met"
MILESTONE_MISSED = "milestone missed"
NO_MILESTONE = "no milestone"
NO_REPORT = "no report"


class YearShare(BaseModel):
    """A year of one commitment. Only a milestone year (a year the organisation committed
    to) is judged; ``trend`` is the straight line between milestones, a guide and never a
    verdict."""

    year: int
    share: float | None  # circular spend / total spend, in percent; None: no report
    milestone: float | None  # the committed share if this year is a milestone, else None
    trend: float  # the straight line from 0 % in the commitment's year through the milestones
    status: str  # milestone met, milestone missed, no milestone, no report


class RoadmapLine(BaseModel):
    commitment_id: str
    organisation: str
    organisation_kind: str
    path: list[dict[str, float | None]]
    open_goal: float | None  # a last share committed "as soon as possible", without a year
    categories: list[str]
    years: list[YearShare]
    latest_status: str  # at the latest milestone year passed; "no milestone yet" before one


class CategoryTotal(BaseModel):
    category: str
    organisations: int
    total_spend_eur: float
    circular_spend_eur: float
    investment_eur: float
    circular_share: float | None


class CommunityActivity(BaseModel):
    community_id: str
    name: str
    members: int
    meetings: int
    average_attendance: float | None
    trajectories: int
    invested_eur: float


class MonitorFigures(BaseModel):
    consortia_formed: int
    share_with_financial_arrangement_pct: float | None  # percent, 60.0 is 60 %
    procurement_commitments: int
    communities_of_practice: int
    cop_meetings: int
    cop_avg_participants: float | None
    procurement_invested_eur: float
    joint_trajectories: int


def milestones(path: list[dict[str, Any]]) -> dict[int, float]:
    """The dated steps of a path: year -> committed share."""
    return {int(p["year"]): float(p["share"]) for p in path if p.get("year") is not None}


def open_goal(path: list[dict[str, Any]]) -> float | None:
    return next((float(p["share"]) for p in path if p.get("year") is None), None)


def path_target(path: list[dict[str, Any]], year: int, start: int) -> float:
    """The trend of a path in a year: straight lines from 0 % in the commitment's year
    through each dated step (10 % by 2022, 50 % by 2025), flat after the last. A guide
    between milestones, not a commitment: the organisation committed to the milestones."""
    points = [(float(start), 0.0)] + [(float(y), s) for y, s in milestones(path).items()]
    for (x0, y0), (x1, y1) in pairwise(points):
        if year <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * max(year - x0, 0) / (x1 - x0)
    return points[-1][1]


def roadmap(store: ReadStore, programme_id: str, until: int) -> list[RoadmapLine]:
    """Every commitment's circular share per year (all categories together) against its
    path, from the commitment's year up to ``until``."""
    with Session(store.engine) as session:
        commitments = programme_rows(
            session, CommitmentRow, programme_id, col(CommitmentRow.organisation)
        )
        spend: dict[tuple[str, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
        for row in programme_rows(session, SpendRow, programme_id):
            totals = spend[(row.commitment_id, row.year)]
            totals[0] += row.total_spend_eur
            totals[1] += row.circular_spend_eur
    lines = []
    for c in commitments:
        path = json.loads(c.path)
        dated = milestones(path)
        years = []
        for year in range(c.committed_on.year, until + 1):
            total, circular = spend.get((c.commitment_id, year), (0.0, 0.0))
            share = 100 * circular / total if total else None
            years.append(
                YearShare(
                    year=year,
                    share=share,
                    milestone=dated.get(year),
                    trend=round(path_target(path, year, c.committed_on.year), 1),
                    status=milestone_status(share, dated.get(year)),
                )
            )
        passed = [y for y in years if y.milestone is not None]
        lines.append(
            RoadmapLine(
                commitment_id=c.commitment_id,
                organisation=c.organisation,
                organisation_kind=c.organisation_kind,
                path=path,
                open_goal=open_goal(path),
                latest_status=passed[-1].status if passed else "no milestone yet",
                categories=json.loads(c.categories),
                years=years,
            )
        )
    return lines


def milestone_status(share: float | None, milestone: float | None) -> str:
    """A year is judged only against a milestone, on the share as shown (one decimal), so a
    share written as 10.0 % never counts as missing a 10 % milestone."""
    if milestone is None:
        return NO_MILESTONE
    if share is None:
        return NO_REPORT
    return MILESTONE_MET if round(share, 1) >= milestone else MILESTONE_MISSED


def category_totals(store: ReadStore, programme_id: str) -> list[CategoryTotal]:
    """Spend per purchase category over all years and organisations."""
    with Session(store.engine) as session:
        rows = programme_rows(session, SpendRow, programme_id)
    grouped: dict[str, list[SpendRow]] = defaultdict(list)
    for row in rows:
        grouped[row.category].append(row)
    totals = []
    for category, found in sorted(grouped.items()):
        total = sum(r.total_spend_eur for r in found)
        circular = sum(r.circular_spend_eur for r in found)
        totals.append(
            CategoryTotal(
                category=category,
                organisations=len({r.commitment_id for r in found}),
                total_spend_eur=total,
                circular_spend_eur=circular,
                investment_eur=sum(r.investment_eur for r in found),
                circular_share=100 * circular / total if total else None,
            )
        )
    return totals


def community_activity(store: ReadStore, programme_id: str) -> list[CommunityActivity]:
    with Session(store.engine) as session:
        communities = programme_rows(
            session, CommunityRow, programme_id, col(CommunityRow.community_id)
        )
        meetings = programme_rows(session, MeetingRow, programme_id)
        trajectories = programme_rows(session, TrajectoryRow, programme_id)
    activity = []
    for c in communities:
        attended = [m.attendees for m in meetings if m.community_id == c.community_id]
        started = [t for t in trajectories if t.community_id == c.community_id]
        activity.append(
            CommunityActivity(
                community_id=c.community_id,
                name=c.name,
                members=len(json.loads(c.members)),
                meetings=len(attended),
                average_attendance=sum(attended) / len(attended) if attended else None,
                trajectories=len(started),
                invested_eur=sum(t.invested_eur for t in started),
            )
        )
    return activity


def monitor_figures(store: ReadStore, programme_id: str) -> MonitorFigures:
    """The headline figures, each counted from the read models."""
    with Session(store.engine) as session:
        formed = session.exec(
            select(InitiativeRow).where(
                InitiativeRow.programme_id == programme_id,
                col(InitiativeRow.consortium_formed_on).is_not(None),
                InitiativeRow.status != "abandoned",
            )
        ).all()
        commitments = session.exec(
            select(func.count())
            .select_from(CommitmentRow)
            .where(CommitmentRow.programme_id == programme_id)
        ).one()
    with_arrangement = [f for f in formed if f.arrangement_type not in (None, "none")]
    communities = community_activity(store, programme_id)
    meetings = sum(c.meetings for c in communities)
    attended = sum((c.average_attendance or 0) * c.meetings for c in communities)
    return MonitorFigures(
        consortia_formed=len(formed),
        share_with_financial_arrangement_pct=(
            100 * len(with_arrangement) / len(formed) if formed else None
        ),
        procurement_commitments=int(commitments),
        communities_of_practice=len(communities),
        cop_meetings=meetings,
        cop_avg_participants=attended / meetings if meetings else None,
        procurement_invested_eur=sum(c.invested_eur for c in communities),
        joint_trajectories=sum(c.trajectories for c in communities),
    )


def this_year() -> int:
    """The programme's current year, by the same clock the engine decides with."""
    return today_in_programme_tz().year
