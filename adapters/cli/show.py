"""`initiative show` and `programme show`: an aggregate's state and its decisions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from adapters.cli.context import console
from adapters.cli.words import _, said, term

if TYPE_CHECKING:
    from domain.reading import ProgrammeState
    from projections.queries import DecisionLogEntry, InitiativeDetail


def print_initiative_detail(detail: InitiativeDetail) -> None:
    state = detail.initiative
    status = (
        ""
        if state.status == "active"
        else f" - {term('status', state.status).upper()}: {state.status_reason}"
    )
    console.print(f"[bold]{state.id}[/]: {escape(state.title)}", highlight=False, markup=True)
    console.print(
        _("programme {programme} · stream {stream} · stage [bold]{stage}[/] since {since}").format(
            programme=state.programme_id,
            stream=state.stream,
            stage=term("stage", state.stage),
            since=state.stage_since,
        )
        + " "
        + _("({n} days)").format(n=state.days_in_stage)
        + escape(status),
        highlight=False,
        markup=True,
    )
    if state.lead:
        console.print(_("lead entrepreneur: {lead}").format(lead=state.lead), highlight=False)
    if detail.preconditions:
        table = Table(title=_("Preconditions"))
        for column in (_("id"), _("kind"), _("responsible"), _("due"), _("target"), _("status")):
            table.add_column(column)
        for p in detail.preconditions:
            target = f"{p.target_value:,g} {p.target_unit}" if p.target_value else ""
            status_text = _("OVERDUE") if p.overdue else term("precondition_status", p.status)
            table.add_row(
                p.precondition,
                term("precondition_kind", p.kind),
                p.responsible,
                str(p.due or ""),
                target,
                status_text,
            )
        console.print(table)
    if state.members:
        members = ", ".join(
            f"{org} ({term('consortium_role', role)})" for org, role in state.members.items()
        )
        console.print(_("consortium: {members}").format(members=members), highlight=False)
    if state.arrangement_type:
        console.print(
            _("financial arrangement: {kind}").format(kind=state.arrangement_type),
            highlight=False,
        )
    for period, figures in sorted(detail.impact.items()):
        text = ", ".join(f"{k} {v:,g}" for k, v in figures.items())
        console.print(
            _("impact {period}: {text}").format(period=period, text=text), highlight=False
        )
    table = Table(title=_("Decisions (in effective order)"))
    for column in (
        _("v"),
        _("effective"),
        _("recorded"),
        _("step"),
        _("actor"),
        _("reason"),
        _("note"),
    ):
        table.add_column(column, overflow="fold")
    for d in detail.decisions:
        table.add_row(
            str(d.version),
            d.effective.isoformat(),
            d.recorded_at.strftime("%Y-%m-%d %H:%M"),
            d.step,
            d.actor,
            d.reason,
            decision_note(d),
        )
    console.print(table)
    allowed = [s.command for s in detail.next_steps if s.allowed]
    if allowed:
        console.print(_("next steps: {steps}").format(steps=", ".join(allowed)), highlight=False)
    for s in detail.next_steps:
        if s.in_stage and not s.allowed:  # steps of other stages go unsaid
            console.print(
                _("not now: {step}: {why}").format(
                    step=s.command, why=said(s.refusal) if s.refusal else s.why_not
                ),
                highlight=False,
            )


def decision_note(d: DecisionLogEntry) -> str:
    """A late entry, a correction, or a corrected decision, with the decisions it names."""
    notes = []
    if d.late:
        notes.append(_("entered late"))
    if "corrects" in d.details and d.event == "DecisionCorrected":
        notes.append(_("corrects {decision}").format(decision=d.details["corrects"]))
    for c in d.corrected_by:
        was = (
            _("reason was: {reason}").format(reason=d.recorded_reason)
            if "reason" in c.changes
            else _("evidence was: {evidence}").format(evidence=", ".join(d.recorded_evidence or []))
        )
        notes.append(
            _("corrected by {decision} on {day}: {why} ({was})").format(
                decision=c.command_id, day=c.effective, why=c.why, was=was
            )
        )
    return "; ".join(notes)


def print_programme(state: ProgrammeState) -> None:
    from domain.policy import mandate_period

    console.print(
        f"[bold]{state.id}[/]: {escape(state.name)} ({escape(state.region)}), "
        f"since {state.founded}",
        highlight=False,
        markup=True,
    )
    console.print(
        f"current phase: {state.current_phase or 'not started'} · "
        f"{len(state.members)} members · {len(state.streams)} streams",
        highlight=False,
    )
    if state.targets:
        table = Table(title="Targets")
        for column in ("key", "unit", "baseline", "target", "deadline"):
            table.add_column(column)
        for key, t in state.targets.items():
            table.add_row(
                key, t["unit"], f"{t['baseline']:,g}", f"{t['target']:,g}", str(t["deadline"])
            )
        console.print(table)
    if state.mandates:
        table = Table(title="Mandates")
        for column in ("broker", "stream", "periods"):
            table.add_column(column)
        for broker, streams in state.mandates.items():
            for stream, periods in streams.items():
                text = "; ".join(mandate_period(p[0], p[1]) for p in periods)
                table.add_row(broker, stream, text)
        console.print(table)
