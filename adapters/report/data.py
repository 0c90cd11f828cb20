"""The report's figures, read once from the read models, and the words and numbers every
part of the report writes them in."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlmodel import Session

from domain.engine import Engine, today_in_programme_tz
from domain.errors import KringloopError
from domain.values import Stage
from projections import queries
from projections.figures import (
    Figure,
    as_of_position,
    headline_figures,
    is_demonstration,
)
from projections.procurement import (
    RoadmapLine,
    roadmap,
)
from projections.progress import TargetProgress, programme_progress
from projections.store import ReadStore
from projections.tables import ProgrammeRow

NOT_SET = "not set yet"
NOT_MEASURED = "not measured"


@dataclass
class TargetHistory:
    """One target at the end of each charted year: its progress then, or None while the
    target had not been set yet."""

    now: TargetProgress
    years: dict[int, TargetProgress | None]


@dataclass
class ReportData:
    programme_id: str
    programme_name: str
    region: str
    report_date: date
    position: int
    demonstration: bool
    first_year: int
    last_year: int
    targets: list[TargetHistory]
    roadmap: list[RoadmapLine]
    pipeline: queries.Pipeline
    headline: list[Figure]
    charts: dict[str, Path] = field(default_factory=dict)


def gather(
    engine: Engine,
    reads: ReadStore,
    programme_id: str,
    first_year: int | None,
    last_year: int,
    today: date | None = None,
) -> ReportData:
    """Every figure of the report, read once, so the charts and tables show the same."""
    from adapters.audit.records import progress_by_date

    row = _programme(reads, programme_id)
    first = first_year if first_year is not None else row.founded.year
    years = list(range(first, last_year + 1))
    ends = progress_by_date(engine, programme_id, [date(y, 12, 31) for y in years], reads)
    by_year = {y: _by_key(ends[date(y, 12, 31)]) for y in years}
    targets = [
        TargetHistory(now=t, years={y: by_year[y].get(t.key) for y in years})
        for t in programme_progress(reads, programme_id)
    ]
    return ReportData(
        programme_id=programme_id,
        programme_name=row.name,
        region=row.region,
        report_date=today or today_in_programme_tz(),
        position=as_of_position(reads),
        demonstration=is_demonstration(reads, programme_id),
        first_year=first,
        last_year=last_year,
        targets=targets,
        roadmap=roadmap(reads, programme_id, last_year),
        pipeline=queries.pipeline(reads, programme_id),
        headline=headline_figures(reads, programme_id),
    )


def _programme(reads: ReadStore, programme_id: str) -> ProgrammeRow:
    with Session(reads.engine) as session:
        row = session.get(ProgrammeRow, programme_id)
    if row is None:
        raise KringloopError(f"no programme '{programme_id}' in the read models")
    return row


def _by_key(progress: list[TargetProgress]) -> dict[str, TargetProgress]:
    return {t.key: t for t in progress}


# -- words and numbers, one way everywhere -------------------------------------------------


def number_text(value: float | None) -> str:
    """A figure as the report writes it: 1,234 or 45.6; "" for none."""
    if value is None:
        return ""
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def date_text(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def stage_words(stage: str) -> str:
    return Stage(stage).label.capitalize()


def year_cell(t: TargetProgress | None) -> str:
    """A target at the end of a year, in words when there is no figure."""
    if t is None:
        return NOT_SET
    if t.current is None:
        return NOT_MEASURED
    if t.source_kind == "programme measurement" and t.measured_on is not None:
        return f"{number_text(t.current)} (measured {t.measured_on.isoformat()})"
    return number_text(t.current)


def milestone_years(lines: list[RoadmapLine]) -> list[int]:
    """The milestone years that have passed (within the roadmap), oldest first."""
    return sorted({y.year for line in lines for y in line.years if y.milestone is not None})


def milestone_counts(lines: list[RoadmapLine], year: int) -> Counter[str]:
    """How many organisations met, missed or did not report on their milestone of ``year``."""
    return Counter(
        y.status for line in lines for y in line.years if y.year == year and y.milestone is not None
    )
