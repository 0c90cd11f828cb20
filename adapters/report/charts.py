"""The report's charts (matplotlib, PNG): targets as small multiples, procurement per
milestone year, the pipeline by stream and stage."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from adapters.report.data import (
    NOT_MEASURED,
    NOT_SET,
    ReportData,
    TargetHistory,
    milestone_counts,
    milestone_years,
    number_text,
    stage_words,
)
from projections.figures import (
    share_text,
)
from projections.procurement import (
    MILESTONE_MET,
    MILESTONE_MISSED,
    NO_REPORT,
)

STATUS_COLOURS = {MILESTONE_MET: "#1b7837", MILESTONE_MISSED: "#c51b7d", NO_REPORT: "#9e9e9e"}


def targets_chart(data: ReportData, path: Path) -> Path:
    """Small multiples: one panel per target in its own unit, the target line drawn, years
    before the target existed and years without a measurement shaded and named."""
    import matplotlib.pyplot as plt

    count = max(len(data.targets), 1)
    columns = min(3, count)
    rows = math.ceil(count / columns)
    figure, grid = plt.subplots(
        rows, columns, figsize=(3.3 * columns, 2.9 * rows), squeeze=False, layout="constrained"
    )
    panels = list(grid.flat)
    for axes, history in zip(panels, data.targets, strict=False):
        _target_panel(axes, history, data)
    for axes in panels[len(data.targets) :]:
        axes.set_axis_off()
    if not data.targets:
        panels[0].text(0.5, 0.5, "no targets set", ha="center", va="center")
    figure.savefig(path, dpi=150)
    plt.close(figure)
    return path


def _target_panel(axes: Any, history: TargetHistory, data: ReportData) -> None:
    from matplotlib.ticker import MaxNLocator

    t = history.now
    years = sorted(history.years)
    now_x = data.report_date.year + (data.report_date.timetuple().tm_yday - 1) / 366
    points: list[tuple[float, float]] = [
        (float(y), p.current) for y, p in history.years.items() if p and p.current is not None
    ]
    if t.source_kind == "programme measurement":  # a measurement is dated, not yearly
        measured = {
            p.measured_on: p.current
            for p in [*history.years.values(), t]
            if p and p.measured_on and p.current is not None
        }
        points = [(d.year + (d.timetuple().tm_yday - 1) / 366, v) for d, v in measured.items()]
        points.sort()
    elif t.current is not None:
        points.append((now_x, t.current))
    if points:
        xs, ys = zip(*points, strict=True)
        axes.plot(xs, ys, marker="o", markersize=3.5, color="#2166ac", linewidth=1.6)
        axes.annotate(
            number_text(ys[-1]),
            (xs[-1], ys[-1]),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=7,
        )
    axes.axhline(t.target, color="#b2182b", linestyle="--", linewidth=1.2)
    axes.axhline(t.baseline, color="#999999", linewidth=0.8)
    for start, end, label in _gaps(history):
        axes.axvspan(start - 0.5, end + 0.5, color="#eeeeee", zorder=0)
        axes.text(
            (start + end) / 2,
            0.5,
            label,
            transform=axes.get_xaxis_transform(),
            ha="center",
            va="center",
            fontsize=7,
            color="#555555",
            rotation=90 if end == start else 0,
        )
    low, high = sorted((t.baseline, t.target))
    values = [v for _, v in points] or [low]
    span = max(high, *values) - min(low, *values) or 1.0
    axes.set_ylim(min(low, *values) - 0.08 * span, max(high, *values) + 0.15 * span)
    axes.set_xlim(years[0] - 0.6, max(years[-1] + 0.6, now_x + 0.3))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    axes.set_title(_wrap(t.description or t.key, 34), fontsize=8.5, loc="left")
    axes.set_ylabel(t.unit, fontsize=7.5)
    axes.tick_params(labelsize=7)
    axes.annotate(
        f"target {number_text(t.target)} by {t.deadline.year}",
        (0.02, t.target),
        xycoords=("axes fraction", "data"),
        xytext=(0, 2),
        textcoords="offset points",
        va="bottom",
        fontsize=6.5,
        color="#b2182b",
    )
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def _gaps(history: TargetHistory) -> list[tuple[int, int, str]]:
    """Runs of years without a figure: before the target was set, or not measured."""
    runs: list[tuple[int, int, str]] = []
    for year in sorted(history.years):
        p = history.years[year]
        label = NOT_SET if p is None else (NOT_MEASURED if p.current is None else "")
        if not label:
            continue
        if runs and runs[-1][2] == label and runs[-1][1] == year - 1:
            runs[-1] = (runs[-1][0], year, label)
        else:
            runs.append((year, year, label))
    return runs


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def procurement_chart(data: ReportData, path: Path) -> Path:
    """Per milestone year: how many organisations met, missed or did not report (left), and
    where each reporting organisation's share stood against the milestone (right)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    years = milestone_years(data.roadmap)
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
    if not years:
        for axes in (left, right):
            axes.set_axis_off()
        left.text(0, 0.5, "no milestone year has passed yet", fontsize=10)
        figure.savefig(path, dpi=150)
        plt.close(figure)
        return path
    statuses = [MILESTONE_MET, MILESTONE_MISSED, NO_REPORT]
    width = 0.8 / len(statuses)
    for i, status in enumerate(statuses):
        counts = [milestone_counts(data.roadmap, y)[status] for y in years]
        xs = [n + (i - 1) * width for n in range(len(years))]
        bars = left.bar(xs, counts, width, label=status, color=STATUS_COLOURS[status])
        left.bar_label(bars, fontsize=7)
    left.set_xticks(range(len(years)), [str(y) for y in years])
    left.yaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_ylabel("organisations")
    left.set_title("Milestones met, missed, not reported", fontsize=9, loc="left")
    left.legend(fontsize=7, frameon=False, loc="upper left")
    for n, year in enumerate(years):
        found = [
            (y.share, y.milestone, y.status)
            for line in data.roadmap
            for y in line.years
            if y.year == year and y.milestone is not None and y.share is not None
        ]
        for k, (share, _, status) in enumerate(sorted(found)):
            jitter = (k % 7 - 3) * 0.05
            right.plot(n + jitter, share, "o", markersize=4, color=STATUS_COLOURS[status])
        if not found:
            right.text(
                n,
                0.5,
                "no reports",
                transform=right.get_xaxis_transform(),
                ha="center",
                fontsize=7.5,
                color="#555555",
            )
        committed = {
            y.milestone
            for line in data.roadmap
            for y in line.years
            if y.year == year and y.milestone is not None
        }
        for milestone in sorted(committed):
            right.hlines(milestone, n - 0.35, n + 0.35, color="black", linewidth=1.5)
            right.annotate(
                f"milestone {share_text(milestone)}",
                (n + 0.36, milestone),
                fontsize=7,
                va="center",
            )
    right.set_xticks(range(len(years)), [str(y) for y in years])
    right.set_xlim(-0.5, len(years) - 0.1)
    right.set_ylim(bottom=0)
    right.set_ylabel("circular share of spend (%)")
    right.set_title("Each reporting organisation's share", fontsize=9, loc="left")
    for axes in (left, right):
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
    figure.savefig(path, dpi=150)
    plt.close(figure)
    return path


def pipeline_chart(data: ReportData, path: Path) -> Path:
    """The streams (sub-streams folded in) by stage, active initiatives only; stalled and
    abandoned ones in a panel of their own."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    rows = list(reversed(data.pipeline.rows))  # first stream at the top
    names = [_wrap(r.name, 28) for r in rows]
    figure, (active, apart) = plt.subplots(
        1,
        2,
        figsize=(9, max(3.0, 0.42 * len(rows) + 1.6)),
        sharey=True,
        width_ratios=(4, 1),
        layout="constrained",
    )
    colours = plt.get_cmap("viridis")
    stages = data.pipeline.stages
    left = [0] * len(rows)
    for n, stage in enumerate(stages):
        counts = [r.counts.get(stage, 0) for r in rows]
        if any(counts):
            colour = colours(n / max(len(stages) - 1, 1))
            active.barh(names, counts, left=left, label=stage_words(stage), color=colour)
            left = [a + b for a, b in zip(left, counts, strict=True)]
    active.xaxis.set_major_locator(MaxNLocator(integer=True))
    active.set_xlabel("active initiatives")
    active.set_title("Active initiatives per stream, by stage", fontsize=9, loc="left")
    active.legend(fontsize=7, frameon=False, loc="lower right")
    stalled = [len(r.stalled) for r in rows]
    abandoned = [len(r.abandoned) for r in rows]
    apart.barh(names, stalled, color="#e08214", label="stalled")
    apart.barh(names, abandoned, left=stalled, color="#7f7f7f", label="abandoned")
    apart.xaxis.set_major_locator(MaxNLocator(integer=True))
    apart.set_xlim(0, max([a + b for a, b in zip(stalled, abandoned, strict=True)] + [1]) + 0.5)
    apart.set_xlabel("initiatives")
    apart.set_title("Stalled, abandoned", fontsize=9, loc="left")
    apart.legend(fontsize=7, frameon=False, loc="lower right")
    for axes in (active, apart):
        axes.tick_params(labelsize=7.5)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
    figure.savefig(path, dpi=150)
    plt.close(figure)
    return path
