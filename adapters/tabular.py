"""Every table view as columns and typed rows, for the exports: one small function per
view, fed the very result the JSON and the pages show. The headers live here only.

Headers, titles and sheet names are English message ids (``N_``): a door gives the table
to ``localised`` with its translator before writing it, so a Dutch page downloads Dutch
headings; the cells (slugs, ids, figures) are the same in every language.

Percent columns hold percentage points (37.5 means 37.5 %), as the read side reports them;
money is in euros; dates are dates, so a spreadsheet can sort and add them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from domain.messages import N_

if TYPE_CHECKING:  # the query shapes only: importing them would load SQLAlchemy
    from adapters.audit.records import HistoryLine
    from adapters.i18n import Translator
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
    header: str  # a message id; with `term`, a slug the glossary has a word for
    kind: Kind = "text"
    term: str | None = None  # the glossary kind of a slug header ("stage")
    worded: frozenset[str] = frozenset()  # cell values that are message ids ("[erased]")


@dataclass(frozen=True)
class Table:
    name: str  # the download's file name, before the date: "pipeline", "history-timber-reuse"
    title: str  # a message id, its {fields} filled from title_args
    columns: tuple[Column, ...]
    rows: list[tuple[Cell, ...]]
    sheet: str = ""  # the workbook's sheet: a short message id (at most 31 characters)
    title_args: Mapping[str, str] = field(default_factory=dict)


def localised(table: Table, t: Translator) -> Table:
    """The table with its headers, title and sheet name in the translator's language, and
    the cells a column marks as worded; the file name and the other cells unchanged."""
    worded = [(i, c.worded) for i, c in enumerate(table.columns) if c.worded]
    rows = table.rows
    if worded:
        rows = [
            tuple(
                t.gettext(cell)
                if isinstance(cell, str) and any(i == n and cell in w for n, w in worded)
                else cell
                for i, cell in enumerate(row)
            )
            for row in rows
        ]
    return replace(
        table,
        title=t.gettext(table.title).format(**table.title_args),
        title_args={},
        sheet=t.gettext(table.sheet) if table.sheet else "",
        columns=tuple(
            Column(t.term(c.term, c.header) if c.term else t.gettext(c.header), c.kind)
            for c in table.columns
        ),
        rows=rows,
    )


def _listed(values: Sequence[str]) -> str:
    return ", ".join(values)


def precondition_register(entries: Sequence[PreconditionEntry]) -> Table:
    return Table(
        name="preconditions",
        title=N_("Precondition register"),
        sheet=N_("Preconditions"),
        columns=(
            Column(N_("initiative")),
            Column(N_("precondition")),
            Column(N_("kind")),
            Column(N_("description")),
            Column(N_("responsible")),
            Column(N_("due"), "date"),
            Column(N_("target value"), "float"),
            Column(N_("target unit")),
            Column(N_("status")),
            Column(N_("overdue")),
            Column(N_("registered"), "date"),
            Column(N_("resolved"), "date"),
            Column(N_("resolution")),
            Column(N_("evidence")),
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
        title=N_("Decision log"),
        sheet=N_("Decisions"),
        columns=(
            Column(N_("effective"), "date"),
            Column(N_("subject kind")),
            Column(N_("subject")),
            Column(N_("programme")),
            Column(N_("version"), "int"),
            Column(N_("step")),
            Column(N_("decided by")),
            Column(N_("recorded by")),
            Column("authority", term="heading"),  # the basis, not the register
            Column(N_("reason")),
            Column(N_("evidence")),
            Column(N_("recorded (UTC)"), "datetime"),
            Column(N_("command id")),
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
        title=N_("Decisions on {initiative}"),
        title_args={"initiative": initiative_id},
        sheet=N_("History"),
        columns=(
            Column(N_("version"), "int"),
            Column(N_("recorded (UTC)"), "datetime"),
            Column(N_("effective"), "date"),
            Column(N_("step")),
            Column(N_("decided by")),
            Column(N_("recorded by")),
            Column("authority", term="heading"),  # the basis, not the register
            Column(N_("reason")),
            Column(N_("evidence")),
            Column(N_("command id")),
            Column(N_("note")),
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
        title=N_("Spend per category"),
        columns=(
            Column(N_("category")),
            Column(N_("organisations"), "int"),
            Column(N_("total spend (EUR)"), "money"),
            Column(N_("circular spend (EUR)"), "money"),
            Column(N_("investment (EUR)"), "money"),
            Column(N_("circular share (%)"), "percent"),
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
        title=N_("Communities of practice"),
        sheet=N_("Communities"),
        columns=(
            Column(N_("community")),
            Column(N_("name")),
            Column(N_("members"), "int"),
            Column(N_("meetings"), "int"),
            Column(N_("average attendance"), "float"),
            Column(N_("joint trajectories"), "int"),
            Column(N_("invested (EUR)"), "money"),
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
        title=N_("Pipeline: initiatives per stream and stage"),
        sheet=N_("Pipeline"),
        columns=(
            Column(N_("stream")),
            Column(N_("name")),
            Column(N_("sub-streams")),
            *(Column(stage, "int", term="stage") for stage in found.stages),
            Column(N_("stalled"), "int"),
            Column(N_("abandoned"), "int"),
            Column(N_("active initiatives")),
            Column(N_("stalled initiatives")),
            Column(N_("abandoned initiatives")),
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
        title=N_("Programme {programme}: targets"),
        title_args={"programme": programme_id},
        sheet=N_("Targets"),
        columns=(
            Column(N_("target")),
            Column(N_("key")),
            Column(N_("unit")),
            Column(N_("baseline"), "float"),
            Column(N_("current"), "float"),
            Column(N_("target value"), "float"),
            Column(N_("deadline"), "date"),
            Column(N_("share reached (%)"), "percent"),
            Column(N_("counts")),
            Column(N_("source kind")),
            Column(N_("measured by")),
            Column(N_("measured on"), "date"),
            Column(N_("source")),
            Column(N_("contributors")),
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
        title=N_("Circular procurement roadmap"),
        sheet=N_("Roadmap"),
        columns=(
            Column(N_("organisation")),
            Column(N_("kind")),
            Column(N_("year"), "int"),
            Column(N_("circular share (%)"), "percent"),
            Column(N_("milestone (%)"), "percent"),
            Column(N_("trend (%)"), "percent"),
            Column(N_("status")),
            Column(N_("latest status")),
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
        title=N_("Organisations"),
        columns=(
            Column(N_("organisation")),
            Column(N_("kind")),
            Column(N_("commitments"), "int"),
            Column(N_("latest status")),
            Column(N_("communities"), "int"),
            Column(N_("consortia"), "int"),
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
        title=N_("{organisation}: spend per year and category"),
        title_args={"organisation": found.name},
        sheet=N_("Spend"),
        columns=(
            Column(N_("commitment")),
            Column(N_("year"), "int"),
            Column(N_("category")),
            Column(N_("total spend (EUR)"), "money"),
            Column(N_("circular spend (EUR)"), "money"),
            Column(N_("investment (EUR)"), "money"),
            Column(N_("circular share (%)"), "percent"),
            Column(N_("milestone (%)"), "percent"),
            Column(N_("reported"), "date"),
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
        title=N_("{organisation}: circular share per year"),
        title_args={"organisation": found.name},
        sheet=N_("Circular share per year"),
        columns=(
            Column(N_("commitment")),
            Column(N_("year"), "int"),
            Column(N_("circular share (%)"), "percent"),
            Column(N_("milestone (%)"), "percent"),
            Column(N_("trend (%)"), "percent"),
            Column(N_("status")),
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
        title=N_("{community}: meetings"),
        title_args={"community": found.name},
        sheet=N_("Meetings"),
        columns=(
            Column(N_("meeting"), "int"),
            Column(N_("held on"), "date"),
            Column(N_("attendees"), "int"),
            Column(N_("topic")),
        ),
        rows=[(m.meeting, m.held_on, m.attendees, m.topic) for m in found.meetings],
    )


def community_trajectories(found: CommunityDetail) -> Table:
    return Table(
        name=f"trajectories-{found.community_id}",
        title=N_("{community}: joint procurement trajectories"),
        title_args={"community": found.name},
        sheet=N_("Trajectories"),
        columns=(
            Column(N_("trajectory")),
            Column(N_("category")),
            Column(N_("participants"), "int"),
            Column(N_("invested (EUR)"), "money"),
            Column(N_("started on"), "date"),
        ),
        rows=[
            (t.trajectory, t.category, t.participants, t.invested_eur, t.started_on)
            for t in found.trajectories
        ],
    )


def community_members(found: CommunityDetail) -> Table:
    return Table(
        name=f"members-{found.community_id}",
        title=N_("{community}: members"),
        title_args={"community": found.name},
        sheet=N_("Members"),
        columns=(Column(N_("organisation")), Column(N_("kind")), Column(N_("role"))),
        rows=[(m.organisation, m.kind, m.role) for m in found.members],
    )


def programme_phases(programme_id: str, phases: Sequence[PhaseEntry]) -> Table:
    return Table(
        name=f"phases-{programme_id}",
        title=N_("Programme {programme}: phases"),
        title_args={"programme": programme_id},
        sheet=N_("Phases"),
        columns=(
            Column(N_("phase"), "int"),
            Column(N_("status")),
            Column(N_("started"), "date"),
            Column(N_("approved"), "date"),
            Column(N_("approved by")),
            Column(N_("completed"), "date"),
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
        title=N_("Programme {programme}: procurement monitor"),
        title_args={"programme": programme_id},
        sheet=N_("Procurement monitor"),
        columns=(
            Column(N_("figure")),
            Column(N_("key")),
            Column(N_("value"), "float"),
            Column(N_("unit")),
            Column(N_("source")),
        ),
        rows=[(f.label, f.key, f.value, f.unit, f.source) for f in figures],
    )


def programme_mandates(programme_id: str, mandates: Sequence[MandateEntry]) -> Table:
    """One row per period of a broker's mandate for a stream."""
    return Table(
        name=f"mandates-{programme_id}",
        title=N_("Programme {programme}: mandates"),
        title_args={"programme": programme_id},
        sheet=N_("Mandates"),
        columns=(
            Column(N_("broker")),
            Column(N_("stream")),
            Column(N_("from"), "date"),
            Column(N_("last day"), "date"),
            Column(N_("holds today")),
        ),
        rows=[
            (m.broker, m.stream, p.start, p.last_day, "yes" if p.holds else "no")
            for m in mandates
            for p in m.periods
        ],
    )


ERASED = N_("[erased]")  # where a person's data was, once erased (kringloop privacy forget)


def authority_roles(roles: Sequence[RoleEntry]) -> Table:
    """One row per period of a person's role in the authority register."""
    return Table(
        name="roles",
        title=N_("Authority register: roles"),
        sheet=N_("Roles"),
        columns=(
            Column(N_("identity")),
            Column(N_("name"), worded=frozenset({ERASED})),
            Column(N_("role")),
            Column(N_("organisation")),
            Column(N_("from"), "date"),
            Column(N_("last day"), "date"),
            Column(N_("holds today")),
            Column(N_("granted by decision")),
        ),
        rows=[
            (
                r.identity,
                ERASED if r.erased else r.name or "",
                r.role,
                r.organisation,
                p.start,
                p.last_day,
                "yes" if p.holds else "no",
                decision,
            )
            for r in roles
            for p, decision in zip(r.periods, r.granted_by, strict=True)
        ]
        + [  # a person named who holds no role (a broker with mandates only)
            (r.identity, ERASED if r.erased else r.name or "", "", "", None, None, "", "")
            for r in roles
            if not r.periods
        ],
    )


def programme_streams(programme_id: str, streams: Sequence[StreamEntry]) -> Table:
    """One row per stream and one per sub-stream, naming the stream it belongs to."""
    return Table(
        name=f"streams-{programme_id}",
        title=N_("Programme {programme}: streams"),
        title_args={"programme": programme_id},
        sheet=N_("Streams"),
        columns=(Column(N_("stream")), Column(N_("name")), Column(N_("sub-stream of"))),
        rows=[
            row
            for s in streams
            for row in [
                (s.stream, s.name, None),
                *((k, n, s.stream) for k, n in s.substreams.items()),
            ]
        ],
    )
