"""Every table view as columns and typed rows, for the exports: one small function per
view, fed the very result the JSON and the pages show. The headers live here only.

Percent columns hold percentage points (37.5 means 37.5 %), as the read side reports them;
money is in euros; dates are dates, so a spreadsheet can sort and add them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from domain.values import Stage

if TYPE_CHECKING:  # the query shapes only: importing them would load SQLAlchemy
    from adapters.audit.records import HistoryLine
    from projections.figures import Figure
    from projections.organisations import CommunityDetail, OrganisationDetail, OrganisationSummary
    from projections.procurement import CategoryTotal, CommunityActivity, RoadmapLine
    from projections.programme import MandateEntry, PhaseEntry, RoleEntry, StreamEntry
    from projections.progress import TargetProgress
    from projections.queries import DecisionLogEntry, Pipeline, PreconditionEntry

Kind = Literal["text", "int", "float", "percent", "money", "date", "datetime"]
Cell = str | int | float | date | datetime | None


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Table:
    name: str  # the download's file name, before the date: "pipeline", "history-timber-reuse"
    title: str
    columns: tuple[Column, ...]
    rows: list[tuple[Cell, ...]]


def _listed(values: Sequence[str]) -> str:
    return ", ".join(values)


def precondition_register(entries: Sequence[PreconditionEntry]) -> Table:
    return Table(
        name="preconditions",
        title="Precondition register",
        columns=(
            Column("initiative"),
            Column("precondition"),
            Column("kind"),
            Column("description"),
            Column("responsible"),
            Column("due", "date"),
            Column("target value", "float"),
            Column("target unit"),
            Column("status"),
            Column("overdue"),
            Column("registered", "date"),
            Column("resolved", "date"),
            Column("resolution"),
            Column("evidence"),
        ),
        rows=[
            (
                p.initiative_id,
                p.precondition,
                p.kind.replace("_", " "),
                p.description,
                p.responsible,
                p.due,
                p.target_value,
                p.target_unit,
                p.status,
                "yes" if p.overdue else "no",
                p.registered_on,
                p.resolved_on,
                p.resolution,
                _listed(p.evidence),
            )
            for p in entries
        ],
    )


def decision_log(entries: Sequence[DecisionLogEntry]) -> Table:
    return Table(
        name="decisions",
        title="Decision log",
        columns=(
            Column("effective", "date"),
            Column("subject kind"),
            Column("subject"),
            Column("programme"),
            Column("version", "int"),
            Column("step"),
            Column("decided by"),
            Column("recorded by"),
            Column("authority"),
            Column("reason"),
            Column("evidence"),
            Column("recorded (UTC)", "datetime"),
            Column("command id"),
        ),
        rows=[
            (
                d.effective,
                d.subject_kind,
                d.subject_id,
                d.programme_id,
                d.version,
                d.step,
                d.actor,
                d.recorded_by,
                d.authority,
                d.reason,
                _listed(d.evidence),
                d.recorded_at,
                d.command_id,
            )
            for d in entries
        ],
    )


def audit_history(initiative_id: str, lines: Sequence[HistoryLine]) -> Table:
    return Table(
        name=f"history-{initiative_id}",
        title=f"Decisions on {initiative_id}",
        columns=(
            Column("version", "int"),
            Column("recorded (UTC)", "datetime"),
            Column("effective", "date"),
            Column("step"),
            Column("decided by"),
            Column("recorded by"),
            Column("authority"),
            Column("reason"),
            Column("evidence"),
            Column("command id"),
            Column("note"),
        ),
        rows=[
            (
                line.version,
                datetime.fromisoformat(line.recorded_at),
                date.fromisoformat(line.effective),
                line.step,
                line.actor,
                line.recorded_by,
                line.authority,
                line.reason,
                _listed(line.evidence),
                line.command_id,
                line.note,
            )
            for line in lines
        ],
    )


def procurement_categories(programme_id: str, totals: Sequence[CategoryTotal]) -> Table:
    return Table(
        name=f"categories-{programme_id}",
        title="Spend per category",
        columns=(
            Column("category"),
            Column("organisations", "int"),
            Column("total spend (EUR)", "money"),
            Column("circular spend (EUR)", "money"),
            Column("investment (EUR)", "money"),
            Column("circular share (%)", "percent"),
        ),
        rows=[
            (
                c.category,
                c.organisations,
                c.total_spend_eur,
                c.circular_spend_eur,
                c.investment_eur,
                c.circular_share,
            )
            for c in totals
        ],
    )


def procurement_communities(programme_id: str, found: Sequence[CommunityActivity]) -> Table:
    return Table(
        name=f"communities-{programme_id}",
        title="Communities of practice",
        columns=(
            Column("community"),
            Column("name"),
            Column("members", "int"),
            Column("meetings", "int"),
            Column("average attendance", "float"),
            Column("joint trajectories", "int"),
            Column("invested (EUR)", "money"),
        ),
        rows=[
            (
                c.community_id,
                c.name,
                c.members,
                c.meetings,
                c.average_attendance,
                c.trajectories,
                c.invested_eur,
            )
            for c in found
        ],
    )


def pipeline(programme_id: str | None, found: Pipeline) -> Table:
    """One row per stream (its sub-streams folded in): active initiatives per stage, then
    the stalled and abandoned ones apart, as the read side counts them."""
    return Table(
        name=f"pipeline-{programme_id}" if programme_id else "pipeline",
        title="Pipeline: initiatives per stream and stage",
        columns=(
            Column("stream"),
            Column("name"),
            Column("sub-streams"),
            *(Column(Stage(stage).label, "int") for stage in found.stages),
            Column("stalled", "int"),
            Column("abandoned", "int"),
            Column("active initiatives"),
            Column("stalled initiatives"),
            Column("abandoned initiatives"),
        ),
        rows=[
            (
                row.stream,
                row.name,
                _listed(row.substreams),
                *(row.counts.get(stage, 0) for stage in found.stages),
                len(row.stalled),
                len(row.abandoned),
                _listed([i for stage in found.stages for i in row.initiatives.get(stage, [])]),
                _listed(row.stalled),
                _listed(row.abandoned),
            )
            for row in found.rows
        ],
    )


def programme_progress(programme_id: str, targets: Sequence[TargetProgress]) -> Table:
    return Table(
        name=f"progress-{programme_id}",
        title=f"Programme {programme_id}: targets",
        columns=(
            Column("target"),
            Column("key"),
            Column("unit"),
            Column("baseline", "float"),
            Column("current", "float"),
            Column("target value", "float"),
            Column("deadline", "date"),
            Column("share reached (%)", "percent"),
            Column("counts"),
            Column("source kind"),
            Column("measured by"),
            Column("measured on", "date"),
            Column("source"),
            Column("contributors"),
        ),
        rows=[
            (
                t.description or t.key,
                t.key,
                t.unit,
                t.baseline,
                t.current,
                t.target,
                t.deadline,
                t.share_reached_pct,
                t.counts,
                t.source_kind,
                t.measured_by,
                t.measured_on,
                t.source,
                _listed([c.initiative_id for c in t.contributors]),
            )
            for t in targets
        ],
    )


def procurement_roadmap(programme_id: str, lines: Sequence[RoadmapLine]) -> Table:
    """One row per organisation and year: its circular share against its milestones."""
    return Table(
        name=f"roadmap-{programme_id}",
        title="Circular procurement roadmap",
        columns=(
            Column("organisation"),
            Column("kind"),
            Column("year", "int"),
            Column("circular share (%)", "percent"),
            Column("milestone (%)", "percent"),
            Column("trend (%)", "percent"),
            Column("status"),
            Column("latest status"),
        ),
        rows=[
            (
                line.organisation,
                line.organisation_kind,
                y.year,
                y.share,
                y.milestone,
                y.trend,
                y.status,
                line.latest_status,
            )
            for line in lines
            for y in line.years
        ],
    )


def organisations(found: Sequence[OrganisationSummary]) -> Table:
    return Table(
        name="organisations",
        title="Organisations",
        columns=(
            Column("organisation"),
            Column("kind"),
            Column("commitments", "int"),
            Column("latest status"),
            Column("communities", "int"),
            Column("consortia", "int"),
        ),
        rows=[
            (o.name, o.kind, o.commitments, o.latest_status, o.communities, o.consortia)
            for o in found
        ],
    )


def organisation_spend(found: OrganisationDetail) -> Table:
    """One row per spend report: a year and a category, against the year's milestone."""
    return Table(
        name=f"spend-{found.organisation_id}",
        title=f"{found.name}: spend per year and category",
        columns=(
            Column("commitment"),
            Column("year", "int"),
            Column("category"),
            Column("total spend (EUR)", "money"),
            Column("circular spend (EUR)", "money"),
            Column("investment (EUR)", "money"),
            Column("circular share (%)", "percent"),
            Column("milestone (%)", "percent"),
            Column("reported", "date"),
        ),
        rows=[
            (
                c.commitment_id,
                s.year,
                s.category,
                s.total_spend_eur,
                s.circular_spend_eur,
                s.investment_eur,
                s.circular_share,
                s.milestone,
                s.reported_on,
            )
            for c in found.commitments
            for s in c.spend
        ],
    )


def organisation_years(found: OrganisationDetail) -> Table:
    """One row per year of each commitment: the roadmap's line for the organisation."""
    return Table(
        name=f"years-{found.organisation_id}",
        title=f"{found.name}: circular share per year",
        columns=(
            Column("commitment"),
            Column("year", "int"),
            Column("circular share (%)", "percent"),
            Column("milestone (%)", "percent"),
            Column("trend (%)", "percent"),
            Column("status"),
        ),
        rows=[
            (c.commitment_id, y.year, y.share, y.milestone, y.trend, y.status)
            for c in found.commitments
            for y in c.years
        ],
    )


def community_meetings(found: CommunityDetail) -> Table:
    return Table(
        name=f"meetings-{found.community_id}",
        title=f"{found.name}: meetings",
        columns=(
            Column("meeting", "int"),
            Column("held on", "date"),
            Column("attendees", "int"),
            Column("topic"),
        ),
        rows=[(m.meeting, m.held_on, m.attendees, m.topic) for m in found.meetings],
    )


def community_trajectories(found: CommunityDetail) -> Table:
    return Table(
        name=f"trajectories-{found.community_id}",
        title=f"{found.name}: joint procurement trajectories",
        columns=(
            Column("trajectory"),
            Column("category"),
            Column("participants", "int"),
            Column("invested (EUR)", "money"),
            Column("started on", "date"),
        ),
        rows=[
            (t.trajectory, t.category, t.participants, t.invested_eur, t.started_on)
            for t in found.trajectories
        ],
    )


def community_members(found: CommunityDetail) -> Table:
    return Table(
        name=f"members-{found.community_id}",
        title=f"{found.name}: members",
        columns=(Column("organisation"), Column("kind"), Column("role")),
        rows=[(m.organisation, m.kind, m.role) for m in found.members],
    )


def programme_phases(programme_id: str, phases: Sequence[PhaseEntry]) -> Table:
    return Table(
        name=f"phases-{programme_id}",
        title=f"Programme {programme_id}: phases",
        columns=(
            Column("phase", "int"),
            Column("status"),
            Column("started", "date"),
            Column("approved", "date"),
            Column("approved by"),
            Column("completed", "date"),
        ),
        rows=[
            (p.phase, p.status, p.started, p.approved, _listed(p.approved_by), p.completed)
            for p in phases
        ],
    )


def programme_figures(programme_id: str, figures: Sequence[Figure]) -> Table:
    """The procurement monitor's headline figures."""
    return Table(
        name=f"figures-{programme_id}",
        title=f"Programme {programme_id}: procurement monitor",
        columns=(
            Column("figure"),
            Column("key"),
            Column("value", "float"),
            Column("unit"),
            Column("source"),
        ),
        rows=[(f.label, f.key, f.value, f.unit, f.source) for f in figures],
    )


def programme_mandates(programme_id: str, mandates: Sequence[MandateEntry]) -> Table:
    """One row per period of a broker's mandate for a stream."""
    return Table(
        name=f"mandates-{programme_id}",
        title=f"Programme {programme_id}: mandates",
        columns=(
            Column("broker"),
            Column("stream"),
            Column("from", "date"),
            Column("last day", "date"),
            Column("holds today"),
        ),
        rows=[
            (m.broker, m.stream, p.start, p.last_day, "yes" if p.holds else "no")
            for m in mandates
            for p in m.periods
        ],
    )


def authority_roles(roles: Sequence[RoleEntry]) -> Table:
    """One row per period of a person's role in the authority register."""
    return Table(
        name="roles",
        title="Authority register: roles",
        columns=(
            Column("identity"),
            Column("role"),
            Column("organisation"),
            Column("from", "date"),
            Column("last day", "date"),
            Column("holds today"),
            Column("granted by decision"),
        ),
        rows=[
            (
                r.identity,
                r.role,
                r.organisation,
                p.start,
                p.last_day,
                "yes" if p.holds else "no",
                decision,
            )
            for r in roles
            for p, decision in zip(r.periods, r.granted_by, strict=True)
        ],
    )


def programme_streams(programme_id: str, streams: Sequence[StreamEntry]) -> Table:
    """One row per stream and one per sub-stream, naming the stream it belongs to."""
    return Table(
        name=f"streams-{programme_id}",
        title=f"Programme {programme_id}: streams",
        columns=(Column("stream"), Column("name"), Column("sub-stream of")),
        rows=[
            row
            for s in streams
            for row in [
                (s.stream, s.name, None),
                *((k, n, s.stream) for k, n in s.substreams.items()),
            ]
        ],
    )
