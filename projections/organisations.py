"""Read-side queries of the organisations and the communities of practice, for their pages.

An organisation is not a record of its own: it is the name that programme members,
procurement commitments, community members and consortium members share. Its id is the
name as a slug (``Gemeente Haarlem`` is ``gemeente-haarlem``). Its kind comes from its
commitment, else from the kind a community recorded for it, else from the programme's member
list (passed in: the programme aggregate keeps it, the read models count it only), else
``other`` (a consortium records no kind).

Every figure comes from ``projections.procurement``: a commitment's years are the lines of
its programme's roadmap (``procurement.roadmap``), a community's counts are its row of
``procurement.community_activity``, so these pages, the roadmap and the programme monitor
always agree.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from datetime import date

from pydantic import BaseModel
from sqlmodel import Session, col, select

from projections import procurement
from projections.procurement import CommunityActivity, YearShare
from projections.store import ReadStore
from projections.tables import (
    CommitmentRow,
    CommunityRow,
    InitiativeRow,
    MeetingRow,
    SpendRow,
    TrajectoryRow,
)

OTHER = "other"
KIND_ORDER = ("municipality", "province", "company", "knowledge_institute", "board", OTHER)
SOURCE = "projections.procurement"


def organisation_id(name: str) -> str:
    """The organisation's id in links: its name as a slug (ASCII, lower case, hyphens)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:63] or "organisation"


class Milestone(BaseModel):
    year: int | None  # None: the open goal ("100 % as soon as possible after")
    share: float  # percent


class SpendLine(BaseModel):
    """One spend report: a year and a category, against the year's milestone."""

    year: int
    category: str
    total_spend_eur: float
    circular_spend_eur: float
    investment_eur: float
    circular_share: float | None  # percent; None when nothing was spent
    milestone: float | None  # the share committed for that year, if it is a milestone year
    reported_on: date


class CommitmentView(BaseModel):
    commitment_id: str
    programme_id: str
    committed_on: date
    path: list[Milestone]
    categories: list[str]
    years: list[YearShare]  # the roadmap's line: all categories together, per year
    latest_status: str
    spend: list[SpendLine]


class Membership(BaseModel):
    community_id: str
    programme_id: str
    name: str
    role: str


class ConsortiumSeat(BaseModel):
    initiative_id: str
    programme_id: str
    title: str
    stage: str
    status: str
    role: str
    consortium_formed_on: date | None


class OrganisationSummary(BaseModel):
    organisation_id: str
    name: str
    kind: str
    commitments: int
    latest_status: str | None  # the roadmap's status at its latest milestone year
    communities: int
    consortia: int


class OrganisationDetail(BaseModel):
    organisation_id: str
    name: str
    kind: str
    commitments: list[CommitmentView]
    communities: list[Membership]
    consortia: list[ConsortiumSeat]


class CommunityMember(BaseModel):
    organisation: str
    organisation_id: str
    kind: str
    role: str


class MeetingView(BaseModel):
    meeting: int
    held_on: date
    attendees: int
    topic: str


class TrajectoryView(BaseModel):
    trajectory: str
    category: str
    participants: int
    invested_eur: float
    started_on: date


class CommunityDetail(BaseModel):
    community_id: str
    programme_id: str
    name: str
    moderator: str
    founded_on: date
    members: list[CommunityMember]
    meetings: list[MeetingView]
    trajectories: list[TrajectoryView]
    activity: CommunityActivity  # the counts, as the programme monitor has them


# -- organisations -------------------------------------------------------------------------


class _Found:
    """Everything the read models hold about organisations, by name."""

    def __init__(self, store: ReadStore, members: Mapping[str, str]) -> None:
        with Session(store.engine) as session:
            self.commitments = list(
                session.exec(select(CommitmentRow).order_by(col(CommitmentRow.commitment_id)))
            )
            self.communities = list(
                session.exec(select(CommunityRow).order_by(col(CommunityRow.community_id)))
            )
            self.initiatives = list(
                session.exec(select(InitiativeRow).order_by(col(InitiativeRow.initiative_id)))
            )
        self.kinds: dict[str, str] = {name: kind or OTHER for name, kind in members.items()}
        for c in self.communities:
            for name, kind in json.loads(c.member_kinds).items():
                if (kind and kind != OTHER) or name not in self.kinds:
                    self.kinds[name] = kind or OTHER
        for i in self.initiatives:
            for name in json.loads(i.members):
                self.kinds.setdefault(name, OTHER)
        for commitment in self.commitments:
            self.kinds[commitment.organisation] = commitment.organisation_kind

    def communities_of(self, name: str) -> list[Membership]:
        return [
            Membership(
                community_id=c.community_id,
                programme_id=c.programme_id,
                name=c.name,
                role=json.loads(c.members)[name],
            )
            for c in self.communities
            if name in json.loads(c.members)
        ]

    def consortia_of(self, name: str) -> list[ConsortiumSeat]:
        return [
            ConsortiumSeat(
                initiative_id=i.initiative_id,
                programme_id=i.programme_id,
                title=i.title,
                stage=i.stage,
                status=i.status,
                role=json.loads(i.members)[name],
                consortium_formed_on=i.consortium_formed_on,
            )
            for i in self.initiatives
            if name in json.loads(i.members)
        ]


def _kind_key(kind: str) -> tuple[int, str]:
    return (KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER), kind)


def organisations(
    store: ReadStore, members: Mapping[str, str] | None = None, until: int | None = None
) -> list[OrganisationSummary]:
    """Every organisation the record names, by kind (municipalities first), then by name.
    ``members``: the programmes' member lists (name -> kind)."""
    found = _Found(store, members or {})
    latest = {
        line.commitment_id: line.latest_status
        for programme_id in sorted({c.programme_id for c in found.commitments})
        for line in procurement.roadmap(store, programme_id, _until(store, until))
    }
    summaries = []
    for name, kind in found.kinds.items():
        own = [c for c in found.commitments if c.organisation == name]
        summaries.append(
            OrganisationSummary(
                organisation_id=organisation_id(name),
                name=name,
                kind=kind,
                commitments=len(own),
                latest_status=latest.get(own[-1].commitment_id) if own else None,
                communities=len(found.communities_of(name)),
                consortia=len(found.consortia_of(name)),
            )
        )
    return sorted(summaries, key=lambda s: (_kind_key(s.kind), s.name.lower()))


def organisation(
    store: ReadStore,
    wanted: str,
    members: Mapping[str, str] | None = None,
    until: int | None = None,
) -> OrganisationDetail | None:
    """One organisation by its id: its commitments (path, the roadmap's years, each spend
    report against its year's milestone), its communities and its consortia."""
    found = _Found(store, members or {})
    name = next((n for n in found.kinds if organisation_id(n) == wanted), None)
    if name is None:
        return None
    own = [c for c in found.commitments if c.organisation == name]
    last_year = _until(store, until)
    lines = {
        line.commitment_id: line
        for programme_id in sorted({c.programme_id for c in own})
        for line in procurement.roadmap(store, programme_id, last_year)
    }
    with Session(store.engine) as session:
        reports = list(
            session.exec(
                select(SpendRow)
                .where(col(SpendRow.commitment_id).in_([c.commitment_id for c in own]))
                .order_by(col(SpendRow.year), col(SpendRow.category))
            )
        )
    by_commitment: dict[str, list[SpendRow]] = defaultdict(list)
    for report in reports:
        by_commitment[report.commitment_id].append(report)
    views = []
    for c in own:
        path = json.loads(c.path)
        dated = procurement.milestones(path)
        line = lines[c.commitment_id]
        views.append(
            CommitmentView(
                commitment_id=c.commitment_id,
                programme_id=c.programme_id,
                committed_on=c.committed_on,
                path=[Milestone(year=p.get("year"), share=float(p["share"])) for p in path],
                categories=line.categories,
                years=line.years,
                latest_status=line.latest_status,
                spend=[
                    SpendLine(
                        year=r.year,
                        category=r.category,
                        total_spend_eur=r.total_spend_eur,
                        circular_spend_eur=r.circular_spend_eur,
                        investment_eur=r.investment_eur,
                        circular_share=(
                            100 * r.circular_spend_eur / r.total_spend_eur
                            if r.total_spend_eur
                            else None
                        ),
                        milestone=dated.get(r.year),
                        reported_on=r.reported_on,
                    )
                    for r in by_commitment[c.commitment_id]
                ],
            )
        )
    return OrganisationDetail(
        organisation_id=organisation_id(name),
        name=name,
        kind=found.kinds[name],
        commitments=views,
        communities=found.communities_of(name),
        consortia=found.consortia_of(name),
    )


def _until(store: ReadStore, until: int | None) -> int:
    """The last year the roadmap shows: the one asked for; else last year (as the roadmap
    page), or a later year someone already reported spend for."""
    if until is not None:
        return until
    with Session(store.engine) as session:
        reported = session.exec(select(col(SpendRow.year)).order_by(col(SpendRow.year).desc()))
        latest = reported.first()
    return max(procurement.this_year() - 1, latest or 0)


# -- communities of practice ---------------------------------------------------------------


def communities(store: ReadStore) -> list[CommunityActivity]:
    """Every community of every programme, with the programme monitor's counts."""
    with Session(store.engine) as session:
        programmes = sorted(set(session.exec(select(CommunityRow.programme_id)).all()))
    return [a for p in programmes for a in procurement.community_activity(store, p)]


def community(store: ReadStore, community_id: str) -> CommunityDetail | None:
    """A community: its members (with their kinds), meetings and joint trajectories."""
    with Session(store.engine) as session:
        row = session.get(CommunityRow, community_id)
        if row is None:
            return None
        meetings = session.exec(
            select(MeetingRow)
            .where(MeetingRow.community_id == community_id)
            .order_by(col(MeetingRow.meeting))
        ).all()
        trajectories = session.exec(
            select(TrajectoryRow)
            .where(TrajectoryRow.community_id == community_id)
            .order_by(col(TrajectoryRow.started_on), col(TrajectoryRow.trajectory))
        ).all()
    kinds = json.loads(row.member_kinds)
    activity = next(
        a
        for a in procurement.community_activity(store, row.programme_id)
        if a.community_id == community_id
    )
    members = [
        CommunityMember(
            organisation=name,
            organisation_id=organisation_id(name),
            kind=kinds.get(name) or OTHER,
            role=role,
        )
        for name, role in json.loads(row.members).items()
    ]
    return CommunityDetail(
        community_id=row.community_id,
        programme_id=row.programme_id,
        name=row.name,
        moderator=row.moderator,
        founded_on=row.founded_on,
        members=sorted(members, key=lambda m: (_kind_key(m.kind), m.organisation.lower())),
        meetings=[
            MeetingView(meeting=m.meeting, held_on=m.held_on, attendees=m.attendees, topic=m.topic)
            for m in meetings
        ],
        trajectories=[
            TrajectoryView(
                trajectory=t.trajectory,
                category=t.category,
                participants=t.participants,
                invested_eur=t.invested_eur,
                started_on=t.started_on,
            )
            for t in trajectories
        ],
        activity=activity,
    )
