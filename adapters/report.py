"""`kringloop report`: charts (matplotlib) and an HTML summary that opens offline."""

from __future__ import annotations

import html
from datetime import date
from pathlib import Path
from typing import Any

from domain.engine import Engine
from domain.values import Stage
from projections import queries
from projections.procurement import monitor_figures, path_target, roadmap
from projections.progress import programme_progress
from projections.store import ReadStore


def write_report(
    engine: Engine, reads: ReadStore, programme_id: str, out: Path, first_year: int, last_year: int
) -> list[Path]:
    """Write the charts and index.html into ``out``; return the files written."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no screen
    out.mkdir(parents=True, exist_ok=True)
    written = [
        _targets_over_time(engine, programme_id, out / "targets.png", first_year, last_year),
        _procurement_shares(reads, programme_id, out / "procurement.png", last_year),
        _pipeline(reads, programme_id, out / "pipeline.png"),
    ]
    written.append(_summary(reads, programme_id, out / "index.html", written))
    return written


def _targets_over_time(
    engine: Engine, programme_id: str, path: Path, first: int, last: int
) -> Path:
    import matplotlib.pyplot as plt

    from adapters.audit.records import progress_as_of

    years = list(range(first, last + 1))
    series: dict[str, list[float | None]] = {}
    for year in years:
        for t in progress_as_of(engine, programme_id, date(year, 12, 31)):
            series.setdefault(t.description or t.key, []).append(
                None if t.share_reached is None else 100 * t.share_reached
            )
    figure, axes = plt.subplots(figsize=(9, 4.5))
    for name, values in series.items():
        if any(v is not None for v in values):
            axes.plot(
                years, [float("nan") if v is None else v for v in values], marker="o", label=name
            )
    axes.axhline(100, color="grey", linestyle="--", linewidth=1)
    axes.set(
        title="Targets: share of the way from baseline to target",
        ylabel="% reached",
        xlabel="end of year",
    )
    axes.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _procurement_shares(reads: ReadStore, programme_id: str, path: Path, last: int) -> Path:
    import matplotlib.pyplot as plt

    lines = roadmap(reads, programme_id, last)
    figure, axes = plt.subplots(figsize=(9, 4.5))
    for line in lines:
        reported = [(y.year, y.share) for y in line.years if y.share is not None]
        if reported:
            colour = "tab:green" if line.latest_status == "on track" else "tab:red"
            axes.plot(*zip(*reported, strict=True), color=colour, alpha=0.35, linewidth=1)
    if lines:
        start = min(y.year for y in lines[0].years)
        years = list(range(start, last + 1))
        axes.plot(
            years,
            [path_target(lines[0].path, y, start) for y in years],
            color="black",
            linewidth=2.5,
            label="path (10 % 2022, 50 % 2025, 100 % 2030)",
        )
    axes.set(
        title="Circular share of procurement spend per organisation (green: on track, red: behind)",
        ylabel="% circular",
        xlabel="year",
    )
    axes.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _pipeline(reads: ReadStore, programme_id: str, path: Path) -> Path:
    import matplotlib.pyplot as plt

    board = queries.pipeline(reads, programme_id)
    streams = sorted({c.stream for c in board.cells})
    figure, axes = plt.subplots(figsize=(9, max(3.0, 0.35 * len(streams) + 1)))
    left = [0] * len(streams)
    for stage in Stage:
        counts = [
            next((c.count for c in board.cells if c.stream == s and c.stage == stage), 0)
            for s in streams
        ]
        if any(counts):
            axes.barh(streams, counts, left=left, label=stage.label)
            left = [a + b for a, b in zip(left, counts, strict=True)]
    axes.set(title="Pipeline: initiatives per stream and stage", xlabel="initiatives")
    axes.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _summary(reads: ReadStore, programme_id: str, path: Path, charts: list[Path]) -> Path:
    figures = monitor_figures(reads, programme_id).model_dump()
    rows = "".join(
        f"<tr><th>{html.escape(k.replace('_', ' '))}</th><td>{_fmt(v)}</td></tr>"
        for k, v in figures.items()
    )
    targets = "".join(
        f"<tr><td>{html.escape(t.description or t.key)}</td><td>{html.escape(t.unit)}</td>"
        f"<td>{_fmt(t.current)}</td><td>{_fmt(t.target)}</td>"
        f"<td>{'' if t.share_reached is None else f'{t.share_reached:.0%}'}</td></tr>"
        for t in programme_progress(reads, programme_id)
    )
    images = "".join(f'<figure><img src="{c.name}" alt="{c.stem}"></figure>' for c in charts)
    path.write_text(
        f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kringloop: {html.escape(programme_id)}</title>
<style>body{{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;
text-align:left}}img{{max-width:100%}}figure{{margin:1em 0}}</style></head>
<body><h1>Programme monitor: {html.escape(programme_id)}</h1>
<p>Every figure is counted by the read models from the recorded decisions.</p>
<h2>Headline figures</h2><table>{rows}</table>
<h2>Targets</h2><table><tr><th>target</th><th>unit</th><th>current</th><th>target</th>
<th>reached</th></tr>{targets}</table>
<h2>Charts</h2>{images}</body></html>
""",
        encoding="utf-8",
    )
    return path


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return html.escape(str(value))
