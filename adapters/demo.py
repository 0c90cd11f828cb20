"""The demo: load a scenario through the engine's own commands, then show the result."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import typer
from rich.table import Table

from adapters.cli.context import console, emit_json, refuse, session
from domain.engine import today_in_programme_tz
from domain.values import Stage
from projections import queries

SCENARIO = "first-steps.jsonl"


def scenario_path() -> Path:
    return Path(str(resources.files("adapters") / "scenarios" / SCENARIO))


def wipe_event_store(home: Path) -> None:
    for name in ("events.sqlite", "read.sqlite"):
        for suffix in ("", "-wal", "-shm"):
            (home / f"{name}{suffix}").unlink(missing_ok=True)


def run_demo(ctx: typer.Context, fresh: bool, as_json: bool) -> None:
    from adapters.cli.app import apply_file  # the CLI's own apply, progress bar included

    current = session(ctx)
    if current.settings.database_url:
        refuse("the demo runs on the embedded SQLite store: unset KRINGLOOP_DATABASE_URL")
    if fresh:
        current.close()
        wipe_event_store(current.settings.home)
    path = scenario_path()
    report = apply_file(ctx, path, show_progress=not as_json)
    if report.stopped is not None:
        refuse(f"{path.name}:{report.stopped.line}: {report.stopped.message}")
    states = queries.list_initiatives(current.fresh_reads(), today_in_programme_tz())
    ids = [s.id for s in states]
    if as_json:
        emit_json(
            {
                "data_folder": str(current.settings.home),
                "applied": report.applied,
                "already_applied": report.replayed,
                "initiatives": [
                    {"id": s.id, "stage": s.stage, "status": s.status, "version": s.version}
                    for s in states
                ],
            }
        )
        return
    console.print(
        f"Loaded {path.name} into {current.settings.home}: {report.applied} decisions recorded, "
        f"{report.replayed} already there.",
        highlight=False,
    )
    table = Table(title="Initiatives of programme mra-circular")
    for column in ("initiative", "stream", "stage", "status", "decisions"):
        table.add_column(column)
    for s in states:
        status = s.status if s.status == "active" else f"{s.status}: {s.status_reason}"
        table.add_row(s.id, s.stream, Stage(s.stage).label, status, str(s.version))
    console.print(table)
    console.print(
        f"See one in full: kringloop --home {current.settings.home} initiative show {ids[0]}",
        highlight=False,
    )
