"""`kringloop demo`: load a scenario through the engine's own commands (`kringloop apply`),
then show the programme dashboard that adapters.demo computes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from adapters.cli.context import console, emit_json, refuse, session
from adapters.commanding import ApplyReport
from adapters.demo import SCENARIOS, dashboard, scenario_path, wipe_stores
from domain.values import Stage
from projections.figures import share_text

Apply = Callable[[typer.Context, Path, bool], ApplyReport]  # (ctx, file, show progress)


def run_demo(ctx: typer.Context, fresh: bool, as_json: bool, scenario: str, apply: Apply) -> None:
    """Load ``scenario`` with the CLI's own ``apply`` (its progress bar included), then
    print the dashboard."""
    current = session(ctx)
    if current.settings.database_url:
        refuse("the demo runs on the embedded SQLite store: unset KRINGLOOP_DATABASE_URL")
    if scenario not in SCENARIOS:
        refuse(f"no scenario {scenario!r} (scenarios: {', '.join(SCENARIOS)})")
    if fresh:
        current.close()
        wipe_stores(current.settings.home)
    path = scenario_path(scenario)
    report = apply(ctx, path, not as_json)
    if report.stopped is not None:
        refuse(f"{path.name}:{report.stopped.line}: {report.stopped.message}")
    data = dashboard(current)
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


def _bar(percent: float | None, width: int = 20) -> str:
    if percent is None:
        return "not measured"
    filled = max(0, min(width, round(percent / 100 * width)))
    return "█" * filled + "·" * (width - filled) + f" {share_text(percent)}"


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
    if data["demonstration_note"]:
        console.print(f"[italic]{data['demonstration_note']}[/]", highlight=False, markup=True)
    marked = data["demonstration_note"] is not None
    figures = Table(title="Headline figures, counted from the recorded decisions")
    for column in ("figure", "value", "unit"):
        figures.add_column(column, justify="right" if column == "value" else "left")
    for f in data["figures"]:
        value = f["value"]
        shown = "" if value is None else f"{value:,.1f}".removesuffix(".0")
        label = f["label"] + (" (source)" if marked and f["published"] else "")
        figures.add_row(label, shown, f["unit"])
    console.print(figures)

    targets = Table(title="Targets against progress")
    for column in ("target", "unit", "current", "target", "reached", "where it comes from"):
        targets.add_column(column)
    for t in data["targets"]:
        current = "not measured" if t["current"] is None else f"{t['current']:,g}"
        targets.add_row(
            t["description"] or t["key"],
            t["unit"],
            current,
            f"{t['target']:,g}",
            _bar(t["share_reached_pct"]),
            t["measured_by"],
        )
    console.print(targets)

    stages = list(Stage)
    pipeline = Table(title="Pipeline per stream (sub-streams folded in): active initiatives")
    pipeline.add_column("stream", no_wrap=True)
    for stage in stages:
        pipeline.add_column(stage.label.replace(" ", "\n"), justify="right")
    pipeline.add_column("stalled", justify="right")
    pipeline.add_column("aban-\ndoned", justify="right")
    for stream, counts in data["pipeline"].items():
        pipeline.add_row(
            stream,
            *[str(counts.get(s.value) or "") for s in stages],
            str(counts["stalled"] or ""),
            str(counts["abandoned"] or ""),
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
        "Procurement roadmap, at each organisation's latest milestone year: "
        + ", ".join(f"{n} {s}" for s, n in sorted(status.items())),
        highlight=False,
    )
    console.print(
        "More: kringloop procurement roadmap · kringloop pipeline · "
        "kringloop programme progress mra-circular · kringloop report --out report",
        highlight=False,
    )
