"""Programme progress: every target against what the initiatives' decisions add up to.

How each measure is counted is defined once, in ``domain.values.Measure``; figures in
different units are never added together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any, Literal, TypeVar

from pydantic import BaseModel
from sqlalchemy import Row
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from domain.values import Measure, Status
from projections.store import ReadStore
from projections.tables import ImpactRow, InitiativeRow, TargetRow, TrajectoryRow

HIGH_VALUE_LEVELS = {f"R{n}" for n in range(9)}  # R0-R8; R9 (energy recovery) is not


class Contribution(BaseModel):
    initiative_id: str
    value: float


SourceKind = Literal["recorded decisions", "programme measurement", "not measured"]


class TargetProgress(BaseModel):
    """One target's figures. ``share_reached_pct`` is the way from baseline to target, in
    percent (135.0 is 135 %); ``source_kind`` and ``measured_by`` say where ``current``
    comes from, ``counts`` what is counted, ``source`` where the target itself comes from."""

    programme_id: str
    key: str
    description: str
    unit: str
    baseline: float
    current: float | None
    target: float
    deadline: date
    share_reached_pct: float | None
    measure: str | None
    counts: str
    source_kind: SourceKind
    measured_by: str
    measured_on: date | None
    source: str
    contributors: list[Contribution]


COUNTS: dict[str, str] = {
    Measure.CONSORTIA_FORMED: "consortia formed",
    Measure.CHAINS_REDESIGNED: "consortia formed",
    Measure.PROCUREMENT_TRAJECTORIES: "joint procurement trajectories",
    Measure.STREAMS_RECYCLED_HIGH_VALUE: "streams with a consortium at R0-R8",
    Measure.JOBS_FTE: "jobs in the latest impact reports",
    Measure.COMPANIES_STARTED: "companies started, all impact reports",
    Measure.TONNES_PROCESSED_PER_YEAR: "tonnes in the latest impact reports",
    Measure.RAW_MATERIAL_IMPORT_AVOIDED_T: "imports avoided in the latest impact reports",
    Measure.ENVIRONMENTAL_PRESSURE_REDUCTION_T_CO2E: "CO2e avoided in the latest impact reports",
}
R = TypeVar("R", bound=SQLModel)
Counted = Row[tuple[str, str, date | None, str | None]]
"""An initiative as progress counts it: id, stream, consortium formed on, best level."""
WITH_TRAJECTORIES = "consortia + joint procurement trajectories"
NOT_MEASURED = "not measured: no programme measurement recorded yet"


def programme_rows(
    session: Session, row_type: type[R], programme_id: str, *order_by: Any
) -> Sequence[R]:
    """The rows of one programme in a read model's table, in the order given."""
    return session.exec(
        select(row_type).filter_by(programme_id=programme_id).order_by(*order_by)
    ).all()


def programme_progress(store: ReadStore, programme_id: str) -> list[TargetProgress]:
    with Session(store.engine) as session:
        targets = programme_rows(session, TargetRow, programme_id, col(TargetRow.key))
        initiatives = session.execute(  # the columns counted only: programmes have thousands
            sa_select(
                col(InitiativeRow.initiative_id),
                col(InitiativeRow.stream),
                col(InitiativeRow.consortium_formed_on),
                col(InitiativeRow.best_circularity_level),
            ).where(
                col(InitiativeRow.programme_id) == programme_id,
                col(InitiativeRow.status) != Status.ABANDONED.value,
            )
        ).all()
        reports = programme_rows(session, ImpactRow, programme_id)
        trajectories = programme_rows(session, TrajectoryRow, programme_id)
    live = {i.initiative_id for i in initiatives}
    contributions = _contributions(initiatives, [r for r in reports if r.initiative_id in live])
    contributions[Measure.CHAINS_REDESIGNED] = contributions[Measure.CONSORTIA_FORMED]
    contributions[Measure.PROCUREMENT_TRAJECTORIES] = [
        Contribution(initiative_id=f"trajectory:{t.community_id}/{t.trajectory}", value=1)
        for t in sorted(trajectories, key=lambda t: (t.community_id, t.trajectory))
    ]
    return [_progress(t, contributions) for t in targets]


def _contributions(
    initiatives: Sequence[Counted], reports: Sequence[ImpactRow]
) -> dict[str, list[Contribution]]:
    by_measure: dict[str, list[Contribution]] = defaultdict(list)
    formed = sorted(
        (i for i in initiatives if i.consortium_formed_on is not None),
        key=lambda i: i.initiative_id,
    )
    for i in formed:
        by_measure[Measure.CONSORTIA_FORMED].append(
            Contribution(initiative_id=i.initiative_id, value=1)
        )
    counted_streams: set[str] = set()
    for i in formed:
        if i.best_circularity_level in HIGH_VALUE_LEVELS and i.stream not in counted_streams:
            counted_streams.add(i.stream)
            by_measure[Measure.STREAMS_RECYCLED_HIGH_VALUE].append(
                Contribution(initiative_id=i.initiative_id, value=1)
            )
    latest: dict[str, ImpactRow] = {}
    companies: dict[str, float] = defaultdict(float)
    for r in sorted(reports, key=lambda r: r.period):
        latest[r.initiative_id] = r
        companies[r.initiative_id] += r.companies_started or 0
    for initiative_id, total in sorted(companies.items()):
        if total:
            by_measure[Measure.COMPANIES_STARTED].append(
                Contribution(initiative_id=initiative_id, value=total)
            )
    for measure in (
        Measure.JOBS_FTE,
        Measure.TONNES_PROCESSED_PER_YEAR,
        Measure.RAW_MATERIAL_IMPORT_AVOIDED_T,
        Measure.ENVIRONMENTAL_PRESSURE_REDUCTION_T_CO2E,
    ):
        for initiative_id, report in sorted(latest.items()):
            value = getattr(report, measure.value)
            if value:
                by_measure[measure].append(Contribution(initiative_id=initiative_id, value=value))
    return by_measure


def _progress(t: TargetRow, contributions: dict[str, list[Contribution]]) -> TargetProgress:
    source_kind: SourceKind
    if t.measure:
        contributors = list(contributions.get(t.measure, []))
        counts = COUNTS.get(t.measure, t.measure.replace("_", " "))
        if t.include_procurement_trajectories:
            contributors += contributions.get(Measure.PROCUREMENT_TRAJECTORIES, [])
            counts = WITH_TRAJECTORIES
        current: float | None = t.baseline + sum(c.value for c in contributors)
        source_kind, measured_on = "recorded decisions", None
        measured_by = f"counted from recorded decisions: {counts}"
    elif t.measured_on:
        contributors, counts, current = [], "programme measurement", t.measured_value
        source_kind, measured_on = "programme measurement", t.measured_on
        measured_by = f"programme measurement of {t.measured_on} ({t.measured_source})"
    else:
        contributors, counts, current = [], "nothing yet", None
        source_kind, measured_by, measured_on = "not measured", NOT_MEASURED, None
    span = t.target - t.baseline
    share = None if current is None or span == 0 else 100 * (current - t.baseline) / span
    return TargetProgress(
        programme_id=t.programme_id,
        key=t.key,
        description=t.description,
        unit=t.unit,
        baseline=t.baseline,
        current=current,
        target=t.target,
        deadline=t.deadline,
        share_reached_pct=share,
        measure=t.measure,
        counts=counts,
        source_kind=source_kind,
        measured_by=measured_by,
        measured_on=measured_on,
        source=t.source,
        contributors=contributors,
    )
