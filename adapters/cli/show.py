"""`initiative show` and `programme show`: an aggregate's state and its decisions."""

from __future__ import annotations

from rich.table import Table

from adapters.cli.context import console
from domain.reading import DecisionEntry, InitiativeState, ProgrammeState
from domain.values import PreconditionKind, Stage


def decisions_table(entries: list[DecisionEntry]) -> Table:
    table = Table(title="Decisions", show_lines=False)
    for column in ("v", "effective", "recorded", "decision", "actor", "reason"):
        table.add_column(column, overflow="fold")
    for e in entries:
        table.add_row(
            str(e.version),
            e.effective.isoformat(),
            e.recorded_at.strftime("%Y-%m-%d %H:%M"),
            e.event,
            e.actor,
            e.reason,
        )
    return table


def print_initiative(state: InitiativeState, entries: list[DecisionEntry]) -> None:
    status = "" if state.status == "active" else f" — {state.status.upper()}: {state.status_reason}"
    console.print(f"[bold]{state.id}[/]: {state.title}", highlight=False)
    console.print(
        f"programme {state.programme_id} · stream {state.stream} · "
        f"stage [bold]{Stage(state.stage).label}[/] since {state.stage_since}{status}",
        highlight=False,
    )
    if state.lead:
        console.print(f"lead entrepreneur: {state.lead}", highlight=False)
    if state.preconditions:
        table = Table(title="Preconditions")
        for column in ("id", "kind", "responsible", "due", "target", "status"):
            table.add_column(column)
        for name, p in state.preconditions.items():
            target = f"{p['target_value']:,g} {p['target_unit']}" if p["target_value"] else ""
            table.add_row(
                name,
                PreconditionKind(p["kind"]).label,
                p["responsible"],
                str(p["due"] or ""),
                target,
                p["status"],
            )
        console.print(table)
    if state.members:
        members = ", ".join(f"{org} ({role})" for org, role in state.members.items())
        console.print(f"consortium: {members}", highlight=False)
    if state.arrangement:
        console.print(f"financial arrangement: {state.arrangement['type']}", highlight=False)
    for period, figures in sorted(state.impact.items()):
        text = ", ".join(f"{k} {v:,g}" for k, v in figures.items())
        console.print(f"impact {period}: {text}", highlight=False)
    console.print(decisions_table(entries))


def print_programme(state: ProgrammeState) -> None:
    console.print(
        f"[bold]{state.id}[/]: {state.name} ({state.region}), since {state.founded}",
        highlight=False,
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
                text = "; ".join(f"{a} to {b or 'now'}" for a, b in periods)
                table.add_row(broker, stream, text)
        console.print(table)
