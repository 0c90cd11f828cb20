"""The phase-3 check's read side: its candidates a page at a time, with the figures it
assesses, less those the read models show it already assessed that day (a rerun skips them
without loading or deciding them)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, select
from sqlmodel import col

from domain.scale_up import Phase3Figures, open_risks
from projections.tables import DecisionRow, ImpactRow, InitiativeRow, ProgrammeRow

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from projections.store import ReadStore

CANDIDATE_STAGES = ("board_withdrawn", "scaled_up")
CHUNK = 5_000  # ids per IN list, far below SQLite's limit on bound values


@dataclass(frozen=True)
class Phase3Page:
    """One page of candidates, in id order."""

    criteria: dict[str, Any]  # the programme's phase-3 criteria ({} when it has none)
    due: list[Phase3Figures]  # to assess: not assessed on the day by the check, as far as seen
    assessed: list[str]  # assessed on the day by the check's own command: skipped
    last: str | None  # the page's last candidate, after which the next page starts; None: none


def candidates(
    store: ReadStore,
    programme_id: str,
    day: date,
    command_id: Callable[[str], str],
    after: str = "",
    limit: int = 5000,
) -> Phase3Page:
    """The programme's initiatives after board withdrawal (not abandoned) after ``after``,
    ``limit`` of them. One counts as assessed when the read models show its latest phase-3
    assessment on ``day`` and its latest decision is ``command_id(initiative)``: what the
    engine would recognise as recorded. The rest are due, and the engine decides whether
    they were recorded after all (by a run racing this one, or followed by another decision
    the same day)."""
    with store.engine.connect() as conn:
        criteria = conn.execute(
            select(col(ProgrammeRow.scale_up_criteria)).where(
                col(ProgrammeRow.programme_id) == programme_id
            )
        ).scalar()
        page = conn.execute(_page(programme_id, day, after, limit)).all()
        assessed = [id_ for id_, decided_by in page if decided_by == command_id(id_)]
        skipped = set(assessed)
        due = _due(conn, [id_ for id_, _ in page if id_ not in skipped], day)
    return Phase3Page(
        json.loads(criteria) if criteria else {}, due, assessed, page[-1][0] if page else None
    )


def _page(programme_id: str, day: date, after: str, limit: int) -> Any:
    """(initiative, its latest decision's command id if assessed on ``day``), in id order."""
    latest_decision = (
        select(col(DecisionRow.command_id))
        .where(col(DecisionRow.subject_id) == col(InitiativeRow.initiative_id))
        .order_by(col(DecisionRow.notification_id).desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        # the decision log is asked only about those assessed on the day: one probe each
        select(
            col(InitiativeRow.initiative_id),
            case((col(InitiativeRow.last_assessment_on) == day, latest_decision)),
        )
        # In key order from ``after``: a run reads the initiatives table once, whatever its
        # number of pages. ``|| ''`` keeps SQLite (no statistics) from choosing the programme
        # or the stage index instead, which reads and sorts every candidate again per page.
        .where(
            col(InitiativeRow.programme_id).concat("") == programme_id,
            col(InitiativeRow.stage).concat("").in_(CANDIDATE_STAGES),
            col(InitiativeRow.status) != "abandoned",
            col(InitiativeRow.initiative_id) > after,
        )
        .order_by(col(InitiativeRow.initiative_id))
        .limit(limit)
    )


def _due(conn: Connection, ids: Sequence[str], today: date) -> list[Phase3Figures]:
    """The figures of ``ids``, in their order."""
    initiatives: dict[str, Any] = {}
    latest: dict[str, Any] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        initiatives.update(
            (row.initiative_id, row)
            for row in conn.execute(
                select(
                    col(InitiativeRow.initiative_id),
                    col(InitiativeRow.operating_from),
                    col(InitiativeRow.consortium_formed_on),
                    col(InitiativeRow.withdrawn_on),
                    col(InitiativeRow.stage_since),
                    col(InitiativeRow.status),
                    col(InitiativeRow.status_since),
                    col(InitiativeRow.failed_preconditions),
                    col(InitiativeRow.last_escalated_on),
                ).where(col(InitiativeRow.initiative_id).in_(chunk))
            )
        )
        for report in conn.execute(
            select(
                col(ImpactRow.initiative_id),
                col(ImpactRow.reported_on),
                col(ImpactRow.tonnes_processed_per_year),
                col(ImpactRow.jobs_fte),
            )
            .where(col(ImpactRow.initiative_id).in_(chunk))
            .order_by(col(ImpactRow.period))
        ):
            latest[report.initiative_id] = report  # the latest period's report wins
    return [_figures(initiatives[id_], latest.get(id_), today) for id_ in ids if id_ in initiatives]


def _figures(row: Any, report: Any, today: date) -> Phase3Figures:
    """As projections.queries.phase3_candidates has them."""
    since = row.operating_from or row.consortium_formed_on or row.withdrawn_on or row.stage_since
    return Phase3Figures(
        initiative_id=row.initiative_id,
        months_operating=max(_months(since, today), 0),
        last_report_on=report.reported_on if report else None,
        months_since_report=_months(report.reported_on, today) if report else None,
        tonnes_per_year=(report.tonnes_processed_per_year or 0.0) if report else 0.0,
        jobs_fte=(report.jobs_fte or 0.0) if report else 0.0,
        open_risks=open_risks(
            row.status, row.status_since, row.failed_preconditions, row.last_escalated_on, today
        ),
    )


def _months(since: date, today: date) -> int:
    """Whole months from ``since`` to ``today`` (2019-03-15 to 2019-04-14: 0)."""
    return (today.year - since.year) * 12 + today.month - since.month - (today.day < since.day)
