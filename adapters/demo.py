"""The demo: load a scenario through the engine's own commands (`kringloop apply`), then
show the programme dashboard: targets against progress, the pipeline per stream, the
procurement roadmap, the phase status."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from adapters.cli.context import console, emit_json, refuse, session
from domain.values import Stage
from projections import queries
from projections.procurement import category_totals, community_activity, monitor_figures, roadmap
from projections.progress import programme_progress
from projections.store import ReadStore
from projections.tables import ProgrammeRow

PROGRAMME = "mra-circular"
SCENARIOS = ("regional", "first-steps")


def scenario_path(name: str = "regional") -> Path:
    return Path(str(resources.files("adapters") / "scenarios" / f"{name}.jsonl"))


def wipe_stores(home: Path) -> None:
    for name in ("events.sqlite", "read.sqlite"):
        for suffix in ("", "-wal", "-shm"):
            (home / f"{name}{suffix}").unlink(missing_ok=True)


def dashboard_data(reads: ReadStore, until: int) -> dict[str, Any]:
    """Every figure of the dashboard, computed by the read models from the events."""
    from sqlmodel import Session

    with Session(reads.engine) as db:
        row = db.get(ProgrammeRow, PROGRAMME)
        phases = json.loads(row.phases) if row else {}
    lines = roadmap(reads, PROGRAMME, until)
    latest = Counter(line.latest_status for line in lines)
    board = queries.pipeline(reads, PROGRAMME)
    return {
        **monitor_figures(reads, PROGRAMME).model_dump(),
        "phases": phases,
        "targets": [t.model_dump(mode="json") for t in programme_progress(reads, PROGRAMME)],
        "pipeline": {c.stream + ":" + c.stage: c.count for c in board.cells},
        "roadmap_latest_status": dict(latest),
        "categories": [c.model_dump() for c in category_totals(reads, PROGRAMME)],
        "communities": [c.model_dump() for c in community_activity(reads, PROGRAMME)],
    }


def run_demo(ctx: typer.Context, fresh: bool, as_json: bool, scenario: str) -> None:
    from adapters.cli.app import apply_file  # the CLI's own apply, progress bar included

    current = session(ctx)
    if current.settings.database_url:
        refuse("the demo runs on the embedded SQLite store: unset KRINGLOOP_DATABASE_URL")
    if scenario not in SCENARIOS:
        refuse(f"no scenario {scenario!r} (scenarios: {', '.join(SCENARIOS)})")
    if fresh:
        current.close()
        wipe_stores(current.settings.home)
    path = scenario_path(scenario)
    report = apply_file(ctx, path, show_progress=not as_json)
    if report.stopped is not None:
        refuse(f"{path.name}:{report.stopped.line}: {report.stopped.message}")
    reads = current.fresh_reads()
    from projections.procurement import this_year

    data = dashboard_data(reads, this_year() - 1)
    data["initiatives"] = [
        {"id": s.id, "stage": s.stage, "status": s.status, "version": s.version}
        for s in queries.list_initiatives(reads, current.engine.clock())
    ]
    if as_json:
        emit_json(
            {
                "data_folder": str(current.settings.home),
                "applied": report.applied,
                "already_applied": report.replayed,
                **data,
            }
        )
        return
    console.print(
        f"Loaded {path.name} into {current.settings.home}: {report.applied} decisions "
        f"recorded, {report.replayed} already there.",
        highlight=False,
    )
    print_dashboard(data)


def _bar(share: float | None, width: int = 20) -> str:
    if share is None:
        return ""
    filled = max(0, min(width, round(share * width)))
    return "█" * filled + "·" * (width - filled) + f" {share:.0%}"


def print_dashboard(data: dict[str, Any]) -> None:
    phases = ", ".join(
        f"phase {p}: " + ", ".join(f"{k} {v}" for k, v in sorted(r.items()) if k != "approved_by")
        for p, r in sorted(data["phases"].items())
    )
    console.print(
        f"[bold]Circular Economy, Amsterdam Metropolitan Area[/] · {phases}",
        highlight=False,
        markup=True,
    )
    console.print(
        f"{data['consortia_formed']} consortia formed, "
        f"{(data['share_with_financial_arrangement'] or 0):.0%} with a new financial "
        f"arrangement · {data['procurement_commitments']} procurement commitments · "
        f"{data['communities_of_practice']} communities of practice, {data['cop_meetings']} "
        f"meetings, {data['cop_avg_participants'] or 0:.1f} participants on average · "
        f"EUR {data['procurement_invested_eur'] / 1e6:,.0f} million invested jointly",
        highlight=False,
    )

    targets = Table(title="Targets against progress")
    for column in ("target", "unit", "current", "target", "progress", "measured by"):
        targets.add_column(column)
    for t in data["targets"]:
        current = "" if t["current"] is None else f"{t['current']:,g}"
        targets.add_row(
            t["description"] or t["key"],
            t["unit"],
            current,
            f"{t['target']:,g}",
            _bar(t["share_reached"]),
            t["measured_by"],
        )
    console.print(targets)

    stages = list(Stage)
    pipeline = Table(title="Pipeline per stream")
    pipeline.add_column("stream", no_wrap=True)
    for stage in stages:
        pipeline.add_column(stage.label.replace(" ", "\n"), justify="right")
    streams = sorted({key.split(":")[0] for key in data["pipeline"]})
    for stream in streams:
        pipeline.add_row(
            stream, *[str(data["pipeline"].get(f"{stream}:{s.value}", "")) for s in stages]
        )
    console.print(pipeline)

    categories = Table(title="Circular procurement per category (all years)")
    for column in ("category", "organisations", "spend EUR m", "circular EUR m", "share"):
        categories.add_column(column, justify="right" if column != "category" else "left")
    for c in data["categories"]:
        categories.add_row(
            c["category"],
            str(c["organisations"]),
            f"{c['total_spend_eur'] / 1e6:,.1f}",
            f"{c['circular_spend_eur'] / 1e6:,.1f}",
            f"{c['circular_share'] or 0:.0f} %",
        )
    console.print(categories)
    status = data["roadmap_latest_status"]
    console.print(
        "Procurement roadmap, latest reported year against each path: "
        + ", ".join(f"{n} {s}" for s, n in sorted(status.items())),
        highlight=False,
    )
    console.print(
        "More: kringloop procurement roadmap · kringloop pipeline · "
        "kringloop programme progress mra-circular · kringloop report --out report",
        highlight=False,
    )
