"""Read-side queries: the read models as pydantic shapes; the CLI and API only format them.

The queries a command line reads with (lists, an initiative, the pipeline, the register) are
plain SQL on any ``Rows`` (projections.rows): the read store, or the SQLite file opened
read-only without SQLAlchemy; the others build their SQL with SQLModel, imported when run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from domain.errors import InvalidCommandError
from domain.lifecycle import OfferedStep
from domain.messages import N_
from domain.scale_up import Phase3Figures, open_risks
from domain.values import Stage, Status
from projections.rows import Row, Rows, day, listed, moment

if TYPE_CHECKING:  # SQLAlchemy only where a query still builds its SQL with it
    from projections.store import ReadStore

SortKey = Literal["id", "stage", "stage_since", "last_effective", "stream"]


class InitiativeSummary(BaseModel):
    id: str
    programme_id: str
    stream: str
    parent_stream: str | None
    title: str
    stage: str
    stage_since: date
    days_in_stage: int
    status: str
    status_since: date
    status_reason: str
    broker: str
    lead: str | None
    open_preconditions: int
    failed_preconditions: int
    members: dict[str, str]
    arrangement_type: str | None
    consortium_formed_on: date | None
    scale_level: str | None
    last_assessment_on: date | None
    ready_to_scale: bool | None
    at_risk: bool
    escalations: int
    last_escalated_on: date | None
    version: int
    last_effective: date


class PreconditionEntry(BaseModel):
    initiative_id: str
    precondition: str
    kind: str
    description: str
    responsible: str
    due: date | None
    target_value: float | None
    target_unit: str | None
    status: str
    overdue: bool
    registered_on: date
    resolved_on: date | None
    resolution: str
    evidence: list[str]


class Correction(BaseModel):
    """A later decision that corrected this one's reason or evidence."""

    command_id: str = Field(description="the correcting decision")
    effective: date
    actor: str
    why: str
    changes: dict[str, Any]


class DecisionLogEntry(BaseModel):
    notification_id: int
    subject_kind: str
    subject_id: str
    programme_id: str
    version: int
    event: str
    step: str
    actor: str
    recorded_by: str
    authority: str
    reason: str
    evidence: list[str]
    effective: date
    recorded_at: datetime
    command_id: str
    details: dict[str, Any]
    late: bool = Field(
        default=False,
        description="entered late: recorded after a decision that took effect later",
    )
    corrected_by: list[Correction] = Field(
        default_factory=list,
        description="corrections of this decision, oldest first; reason and evidence show "
        "the corrected values, recorded_reason and recorded_evidence what was recorded",
    )
    recorded_reason: str | None = None
    recorded_evidence: list[str] | None = None


class InitiativeDetail(BaseModel):
    initiative: InitiativeSummary
    options: dict[str, str]
    chosen_options: list[str]
    respondents: list[str]
    preconditions: list[PreconditionEntry]
    impact: dict[int, dict[str, float]]
    decisions: list[DecisionLogEntry]
    next_steps: list[OfferedStep] = Field(
        default_factory=list,
        description="every step of the lifecycle, allowed now or why not (from the initiative "
        "itself: domain.initiative.LIFECYCLE); filled by the door that shows it",
    )


class PipelineRow(BaseModel):
    """One of the programme's streams with its sub-streams folded in: its active initiatives
    per stage, and the stalled and abandoned ones apart (never counted as live in a stage)."""

    stream: str
    name: str
    substreams: list[str]
    counts: dict[str, int]
    initiatives: dict[str, list[str]]
    stalled: list[str]
    abandoned: list[str]


class Pipeline(BaseModel):
    stages: list[str]
    rows: list[PipelineRow]
    totals: dict[str, int]  # active initiatives per stage, all streams
    stalled: int
    abandoned: int


def _summary(row: Row, today: date) -> InitiativeSummary:
    summary = InitiativeSummary(
        id=row["initiative_id"],
        programme_id=row["programme_id"],
        stream=row["stream"],
        parent_stream=row["parent_stream"],
        title=row["title"],
        stage=row["stage"],
        stage_since=row["stage_since"],
        days_in_stage=0,
        status=row["status"],
        status_since=row["status_since"],
        status_reason=row["status_reason"],
        broker=row["broker"],
        lead=row["lead"],
        open_preconditions=row["open_preconditions"],
        failed_preconditions=row["failed_preconditions"],
        members=listed(row["members"]),
        arrangement_type=row["arrangement_type"],
        consortium_formed_on=row["consortium_formed_on"],
        scale_level=row["scale_level"],
        last_assessment_on=row["last_assessment_on"],
        ready_to_scale=row["last_assessment_ready"],
        at_risk=row["at_risk"],
        escalations=row["escalations"],
        last_escalated_on=row["last_escalated_on"],
        version=row["version"],
        last_effective=row["last_effective"],
    )
    summary.days_in_stage = (today - summary.stage_since).days
    return summary


SORTED_BY: dict[str, str] = {
    "id": "initiative_id",
    "stage": "stage",
    "stage_since": "stage_since",
    "last_effective": "last_effective",
    "stream": "stream",
}


def list_initiatives(
    store: Rows,
    today: date,
    *,
    stage: str | None = None,
    stream: str | None = None,
    sub_stream: str | None = None,
    broker: str | None = None,
    status: str | None = None,
    stalled_days: int | None = None,
    flagged: Literal["ready", "at_risk", "escalated"] | None = None,
    sort: SortKey = "id",
) -> list[InitiativeSummary]:
    """Initiatives by stage, stream (with its sub-streams), sub-stream, broker (anyone who
    decided on it), status, or stalled for more than N days."""
    check_filters(stream=stream, sub_stream=sub_stream, broker=broker)
    where: list[str] = []
    params: dict[str, Any] = {}
    if stage:
        where.append("stage = :stage")
        params["stage"] = stage
    if stream:
        where.append("(stream = :stream OR parent_stream = :stream)")
        params["stream"] = stream
    if sub_stream:
        where.append("stream = :sub_stream")
        params["sub_stream"] = sub_stream
    if status:
        where.append("status = :status")
        params["status"] = status
    if stalled_days is not None:
        where.append("status = 'stalled' AND status_since < :stalled_before")
        params["stalled_before"] = today - timedelta(days=stalled_days)
    if flagged == "ready":
        where.append("last_assessment_ready = :yes")
        params["yes"] = True
    elif flagged == "at_risk":
        where.append("at_risk = :yes")
        params["yes"] = True
    elif flagged == "escalated":
        where.append("escalations > 0")
    if broker:
        where.append(
            "initiative_id IN (SELECT subject_id FROM decisions"
            " WHERE actor = :broker AND subject_kind = 'initiative')"
        )
        params["broker"] = broker
    sql = "SELECT * FROM initiatives"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {SORTED_BY[sort]}, initiative_id"
    summaries = [_summary(r, today) for r in store.rows(sql, params)]
    if sort == "stage":
        summaries.sort(key=lambda s: (Stage(s.stage).rank, s.id))
    return summaries


def initiative_detail(store: Rows, initiative_id: str, today: date) -> InitiativeDetail | None:
    with store.snapshot() as rows:  # the initiative, its preconditions and decisions at once
        found = rows.rows(
            "SELECT * FROM initiatives WHERE initiative_id = :id", {"id": initiative_id}
        )
        if not found:
            return None
        row = found[0]
        impact_rows = rows.rows(
            "SELECT * FROM impact_reports WHERE initiative_id = :id", {"id": initiative_id}
        )
        decisions = rows.rows(
            "SELECT * FROM decisions WHERE subject_kind = 'initiative' AND subject_id = :id"
            " ORDER BY version",
            {"id": initiative_id},
        )
        preconditions = register(rows, today, initiative_id=initiative_id)
    return InitiativeDetail(
        initiative=_summary(row, today),
        options=listed(row["options"]),
        chosen_options=listed(row["chosen_options"]),
        respondents=listed(row["respondents"]),
        preconditions=preconditions,
        impact={
            r["period"]: {
                k: v
                for k, v in r.items()
                if k not in ("initiative_id", "period", "programme_id", "reported_on")
                and v is not None
            }
            for r in impact_rows
        },
        decisions=_timeline([_decision(d) for d in decisions], decisions),
    )


def _timeline(entries: list[DecisionLogEntry], rows: Sequence[Row]) -> list[DecisionLogEntry]:
    """One subject's decisions in effective order (a late entry at its place), each late
    entry marked, each corrected one showing its correction."""
    latest: date | None = None
    for entry in entries:  # in version order: late if an earlier version took effect later
        entry.late = latest is not None and entry.effective < latest
        latest = entry.effective if latest is None else max(latest, entry.effective)
    corrected(entries, rows)
    return sorted(entries, key=lambda e: (e.effective, e.version))


def corrected(entries: list[DecisionLogEntry], corrections: Sequence[Row]) -> None:
    """Show the corrected reason and evidence on each corrected entry, marked, with what was
    recorded kept beside them; ``corrections`` holds the DecisionCorrected rows of the
    decision log (and may hold others, which are passed over)."""
    by_command = {(e.subject_id, e.command_id): e for e in entries}
    for row in sorted(corrections, key=lambda r: int(r["notification_id"])):
        if row["event"] != "DecisionCorrected":
            continue
        details = listed(row["details"])
        entry = by_command.get((row["subject_id"], details["corrects"]))
        if entry is None:
            continue
        changes = details["changes"]
        if entry.recorded_reason is None:
            entry.recorded_reason, entry.recorded_evidence = entry.reason, list(entry.evidence)
        entry.reason = changes.get("reason", entry.reason)
        entry.evidence = list(changes.get("evidence", entry.evidence))
        entry.corrected_by.append(
            Correction(
                command_id=row["command_id"],
                effective=row["effective"],
                actor=row["actor"],
                why=row["reason"],
                changes=changes,
            )
        )


def _decision(row: Row) -> DecisionLogEntry:
    return DecisionLogEntry(
        **{
            **row,
            "recorded_at": moment(row["recorded_at"]),
            "evidence": listed(row["evidence"]),
            "details": listed(row["details"]),
        }
    )


def register(
    store: Rows,
    today: date,
    *,
    initiative_id: str | None = None,
    responsible: str | None = None,
    status: str | None = None,
    overdue: bool = False,
    due_before: date | None = None,
) -> list[PreconditionEntry]:
    """The precondition register: every precondition, with overdue ones marked."""
    check_filters(initiative_id=initiative_id, responsible=responsible, status=status)
    where: list[str] = []
    params: dict[str, Any] = {}
    if initiative_id:
        where.append("initiative_id = :initiative_id")
        params["initiative_id"] = initiative_id
    if responsible:
        where.append("responsible = :responsible")
        params["responsible"] = responsible
    if status:
        where.append("status = :status")
        params["status"] = status
    if overdue:
        where.append("status = 'open' AND due < :today")
        params["today"] = today
    if due_before:
        where.append("due < :due_before")
        params["due_before"] = due_before
    sql = "SELECT * FROM preconditions"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY initiative_id, registered_on"
    entries = []
    for r in store.rows(sql, params):
        due = day(r["due"])
        entries.append(
            PreconditionEntry(
                **{
                    **{k: v for k, v in r.items() if k not in ("aggregate_id", "programme_id")},
                    "evidence": listed(r["evidence"]),
                    "overdue": r["status"] == "open" and due is not None and due < today,
                }
            )
        )
    return entries


def pipeline(store: Rows, programme_id: str | None = None) -> Pipeline:
    """The programme's streams by stage: how many active initiatives stand where, and which;
    a sub-stream's initiatives count in its stream ("which of the nine streams has a
    consortium"); stalled and abandoned initiatives are listed apart."""
    query = "SELECT stream, stage, status, initiative_id FROM initiatives"
    streams_query = "SELECT stream, name, parent FROM streams"
    params: dict[str, Any] = {}
    if programme_id:
        query += " WHERE programme_id = :programme_id"
        streams_query += " WHERE programme_id = :programme_id"
        params["programme_id"] = programme_id
    registered = {s["stream"]: (s["name"], s["parent"]) for s in store.rows(streams_query, params)}
    found = [
        (r["stream"], r["stage"], r["status"], r["initiative_id"])
        for r in store.rows(query + " ORDER BY initiative_id", params)
    ]
    top = {s: _top_stream(s, registered) for s in registered}
    rows: dict[str, PipelineRow] = {}
    for stream in sorted(set(top.values()) | {_top_stream(s, registered) for s, *_ in found}):
        rows[stream] = PipelineRow(
            stream=stream,
            name=registered.get(stream, (stream, None))[0],
            substreams=sorted(s for s, t in top.items() if t == stream and s != stream),
            counts={},
            initiatives={},
            stalled=[],
            abandoned=[],
        )
    for stream, stage, status, initiative_id in found:
        row = rows[_top_stream(stream, registered)]
        if status == Status.STALLED:
            row.stalled.append(initiative_id)
        elif status == Status.ABANDONED:
            row.abandoned.append(initiative_id)
        else:
            row.initiatives.setdefault(stage, []).append(initiative_id)
            row.counts[stage] = row.counts.get(stage, 0) + 1
    stages = [s.value for s in Stage]
    return Pipeline(
        stages=stages,
        rows=list(rows.values()),
        totals={s: sum(r.counts.get(s, 0) for r in rows.values()) for s in stages},
        stalled=sum(len(r.stalled) for r in rows.values()),
        abandoned=sum(len(r.abandoned) for r in rows.values()),
    )


def _top_stream(stream: str, registered: dict[str, tuple[str, str | None]]) -> str:
    seen = {stream}
    while (parent := registered.get(stream, ("", None))[1]) and parent not in seen:
        seen.add(parent)
        stream = parent
    return stream


MAX_FILTER = 200
"""The longest value a free-text filter takes (``text``, ``actor``, ``stream``, ...), at every
door: API query parameters, CLI options, page parameters. Ids and names are at most 200
characters anyway, and SQLite refuses a LIKE pattern over 50,000 bytes."""


def check_filters(**filters: str | None) -> None:
    """Refuse a filter longer than `MAX_FILTER`, naming it (the doors check first)."""
    for name, value in filters.items():
        if value is not None and len(value) > MAX_FILTER:
            raise InvalidCommandError(
                N_("{name}: at most {limit} characters"), name=name, limit=MAX_FILTER
            )


def decision_log(
    store: ReadStore,
    *,
    actor: str | None = None,
    step: str | None = None,
    subject: str | None = None,
    since: date | None = None,
    until: date | None = None,
    text: str | None = None,
    limit: int = 1000,
) -> list[DecisionLogEntry]:
    """The flattened decision log, searchable by actor, step, subject, effective dates and
    words in the reasons."""
    from sqlalchemy import func, or_
    from sqlmodel import Session, col, select

    from projections.tables import DecisionRow

    check_filters(actor=actor, step=step, subject=subject, text=text)
    query = select(DecisionRow)
    if actor:
        query = query.where(DecisionRow.actor == actor)
    if step:
        wanted = step.replace("-", " ").replace("_", " ").lower()
        query = query.where(or_(col(DecisionRow.event) == step, col(DecisionRow.step) == wanted))
    if subject:
        query = query.where(DecisionRow.subject_id == subject)
    if since:
        query = query.where(col(DecisionRow.effective) >= since)
    if until:
        query = query.where(col(DecisionRow.effective) <= until)
    if text:
        reason = func.lower(DecisionRow.reason)
        query = query.where(reason.contains(text.lower(), autoescape=True))  # "%" is text
    query = query.order_by(col(DecisionRow.effective), col(DecisionRow.notification_id)).limit(
        limit
    )
    with Session(store.engine) as session:
        rows = session.exec(query).all()
        entries = [_decision(d.model_dump()) for d in rows]
        subjects = {e.subject_id for e in entries}
        if subjects:
            corrections = session.exec(
                select(DecisionRow).where(
                    DecisionRow.event == "DecisionCorrected",
                    col(DecisionRow.subject_id).in_(subjects),
                )
            ).all()
            corrected(entries, [c.model_dump() for c in corrections])
    return entries


def version_as_of(
    store: ReadStore, subject_id: str, at: date, by: Literal["recorded", "effective"]
) -> int | None:
    """The last version of an initiative or programme as the record stood at the end of
    ``at`` (``recorded``), or as its decisions had taken effect by then (``effective``).
    An initiative's decisions take effect in version order, so both are a prefix."""
    from sqlalchemy import func
    from sqlmodel import Session, col, select

    from projections.tables import DecisionRow

    if by == "recorded":
        end_of_day = datetime.combine(at + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        condition = col(DecisionRow.recorded_at) < end_of_day
    else:
        condition = col(DecisionRow.effective) <= at
    query = select(func.max(DecisionRow.version)).where(
        DecisionRow.subject_id == subject_id, condition
    )
    with Session(store.engine) as session:
        found = session.exec(query).one()
    return int(found) if found is not None else None


def phase3_candidates(
    store: ReadStore, programme_id: str, today: date, after: str = "", limit: int = 5000
) -> tuple[dict[str, Any], list[Phase3Figures]]:
    """The programme's phase-3 criteria, and the figures of its initiatives after board
    withdrawal (not abandoned), in id order from ``after``, a page at a time."""
    from sqlmodel import Session, col, select

    from projections.tables import ImpactRow, InitiativeRow, ProgrammeRow

    with Session(store.engine) as session:
        programme = session.get(ProgrammeRow, programme_id)
        criteria = listed(programme.scale_up_criteria) if programme else {}
        rows = session.exec(
            select(InitiativeRow)
            .where(
                InitiativeRow.programme_id == programme_id,
                col(InitiativeRow.stage).in_(["board_withdrawn", "scaled_up"]),
                InitiativeRow.status != "abandoned",
                col(InitiativeRow.initiative_id) > after,
            )
            .order_by(col(InitiativeRow.initiative_id))
            .limit(limit)
        ).all()
        ids = [r.initiative_id for r in rows]
        latest: dict[str, ImpactRow] = {}
        for report in session.exec(
            select(ImpactRow)
            .where(col(ImpactRow.initiative_id).in_(ids))
            .order_by(col(ImpactRow.period))
        ):
            latest[report.initiative_id] = report
    figures = []
    for r in rows:
        since = r.operating_from or r.consortium_formed_on or r.withdrawn_on or r.stage_since
        last_report = latest.get(r.initiative_id)
        risks = open_risks(
            r.status, r.status_since, r.failed_preconditions, r.last_escalated_on, today
        )
        figures.append(
            Phase3Figures(
                initiative_id=r.initiative_id,
                months_operating=max(_months(since, today), 0),
                last_report_on=last_report.reported_on if last_report else None,
                months_since_report=_months(last_report.reported_on, today)
                if last_report
                else None,
                tonnes_per_year=(last_report.tonnes_processed_per_year or 0.0)
                if last_report
                else 0.0,
                jobs_fte=(last_report.jobs_fte or 0.0) if last_report else 0.0,
                open_risks=risks,
            )
        )
    return criteria, figures


def _months(since: date, today: date) -> int:
    """Whole months from ``since`` to ``today`` (2019-03-15 to 2019-04-14: 0)."""
    return (today.year - since.year) * 12 + today.month - since.month - (today.day < since.day)


def deadline_concerns(store: Rows, today: date, stalled_days: int) -> list[tuple[str, str, str]]:
    """(initiative, concern, subject) for every open precondition past its due date and
    every initiative stalled longer than ``stalled_days``."""
    concerns = [
        (p.initiative_id, "overdue_precondition", p.precondition)
        for p in register(store, today, overdue=True)
    ]
    concerns += [
        (s.id, "stalled", s.status_reason or "stalled")
        for s in list_initiatives(store, today, stalled_days=stalled_days)
    ]
    return concerns
