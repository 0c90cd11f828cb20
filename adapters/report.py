"""`kringloop report`: a dated management report a programme director can sign.

One HTML page (``index.html``, opens offline) and ``report.pdf`` rendered from that same page
by WeasyPrint (A4, page numbers, DejaVu fonts embedded). Every figure comes from the read
models (``projections``): the targets from ``programme_progress`` (their history from the
decisions that had taken effect by the end of each year), procurement from ``roadmap``, the
pipeline from ``queries.pipeline``. Each chart (matplotlib, PNG) has its data table below it
as the text alternative.
"""

from __future__ import annotations

import html
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session

from domain.engine import Engine, today_in_programme_tz
from domain.errors import KringloopError
from domain.values import Stage
from projections import queries
from projections.figures import (
    DEMONSTRATION_NOTE,
    PUBLISHED_FIGURES,
    as_of_position,
    is_demonstration,
    share_text,
)
from projections.procurement import (
    MILESTONE_MET,
    MILESTONE_MISSED,
    NO_REPORT,
    RoadmapLine,
    monitor_figures,
    roadmap,
)
from projections.progress import TargetProgress, programme_progress
from projections.store import ReadStore
from projections.tables import ProgrammeRow

NOT_SET = "not set yet"
NOT_MEASURED = "not measured"
PDF_LIBRARIES = "libpango-1.0-0 libpangoft2-1.0-0"  # what WeasyPrint loads from the system
STATUS_COLOURS = {MILESTONE_MET: "#1b7837", MILESTONE_MISSED: "#c51b7d", NO_REPORT: "#9e9e9e"}


@dataclass
class TargetHistory:
    """One target at the end of each charted year: its progress then, or None while the
    target had not been set yet."""

    now: TargetProgress
    years: dict[int, TargetProgress | None]


@dataclass
class ReportData:
    programme_id: str
    programme_name: str
    region: str
    report_date: date
    position: int
    demonstration: bool
    first_year: int
    last_year: int
    targets: list[TargetHistory]
    roadmap: list[RoadmapLine]
    pipeline: queries.Pipeline
    headline: dict[str, Any]
    charts: dict[str, Path] = field(default_factory=dict)


def write_report(
    engine: Engine,
    reads: ReadStore,
    programme_id: str,
    out: Path,
    first_year: int | None,
    last_year: int,
    today: date | None = None,
) -> list[Path]:
    """Write the charts, index.html and report.pdf into ``out``; return the files written.
    ``first_year`` None starts the charts in the programme's founding year."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no screen
    data = gather(engine, reads, programme_id, first_year, last_year, today)
    out.mkdir(parents=True, exist_ok=True)
    data.charts = {
        "targets": _targets_chart(data, out / "targets.png"),
        "procurement": _procurement_chart(data, out / "procurement.png"),
        "pipeline": _pipeline_chart(data, out / "pipeline.png"),
    }
    page = out / "index.html"
    page.write_text(render_html(data), encoding="utf-8")
    return [*data.charts.values(), page, write_pdf(page, out / "report.pdf")]


def gather(
    engine: Engine,
    reads: ReadStore,
    programme_id: str,
    first_year: int | None,
    last_year: int,
    today: date | None = None,
) -> ReportData:
    """Every figure of the report, read once, so the charts and tables show the same."""
    from adapters.audit.records import progress_as_of

    row = _programme(reads, programme_id)
    first = first_year if first_year is not None else row.founded.year
    years = list(range(first, last_year + 1))
    by_year = {y: _by_key(progress_as_of(engine, programme_id, date(y, 12, 31))) for y in years}
    targets = [
        TargetHistory(now=t, years={y: by_year[y].get(t.key) for y in years})
        for t in programme_progress(reads, programme_id)
    ]
    return ReportData(
        programme_id=programme_id,
        programme_name=row.name,
        region=row.region,
        report_date=today or today_in_programme_tz(),
        position=as_of_position(reads),
        demonstration=is_demonstration(reads, programme_id),
        first_year=first,
        last_year=last_year,
        targets=targets,
        roadmap=roadmap(reads, programme_id, last_year),
        pipeline=queries.pipeline(reads, programme_id),
        headline=monitor_figures(reads, programme_id).model_dump(),
    )


def _programme(reads: ReadStore, programme_id: str) -> ProgrammeRow:
    with Session(reads.engine) as session:
        row = session.get(ProgrammeRow, programme_id)
    if row is None:
        raise KringloopError(f"no programme '{programme_id}' in the read models")
    return row


def _by_key(progress: list[TargetProgress]) -> dict[str, TargetProgress]:
    return {t.key: t for t in progress}


# -- words and numbers, one way everywhere -------------------------------------------------


def number_text(value: float | None) -> str:
    """A figure as the report writes it: 1,234 or 45.6; "" for none."""
    if value is None:
        return ""
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def date_text(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def stage_words(stage: str) -> str:
    return Stage(stage).label.capitalize()


def source_line(t: TargetProgress) -> str:
    """Where a target's current figure comes from, in one line (as every door says it)."""
    return t.measured_by


def year_cell(t: TargetProgress | None) -> str:
    """A target at the end of a year, in words when there is no figure."""
    if t is None:
        return NOT_SET
    if t.current is None:
        return NOT_MEASURED
    if t.source_kind == "programme measurement" and t.measured_on is not None:
        return f"{number_text(t.current)} (measured {t.measured_on.isoformat()})"
    return number_text(t.current)


# -- charts -------------------------------------------------------------------------------


def _targets_chart(data: ReportData, path: Path) -> Path:
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
    points = [(y, p.current) for y, p in history.years.items() if p and p.current is not None]
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


def milestone_years(lines: list[RoadmapLine]) -> list[int]:
    """The milestone years that have passed (within the roadmap), oldest first."""
    return sorted({y.year for line in lines for y in line.years if y.milestone is not None})


def milestone_counts(lines: list[RoadmapLine], year: int) -> Counter[str]:
    """How many organisations met, missed or did not report on their milestone of ``year``."""
    return Counter(
        y.status for line in lines for y in line.years if y.year == year and y.milestone is not None
    )


def _procurement_chart(data: ReportData, path: Path) -> Path:
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


def _pipeline_chart(data: ReportData, path: Path) -> Path:
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


# -- the page -----------------------------------------------------------------------------

CSS = """
@page {
  size: A4;
  margin: 20mm 16mm 20mm 16mm;
  font-family: "DejaVu Sans", sans-serif;
  @top-center { content: "NOTE"; font-size: 7.5pt; color: #8a4b00; }
  @bottom-left { content: "FOOTER"; font-size: 7.5pt; color: #555; }
  @bottom-right { content: "page " counter(page) " / " counter(pages); font-size: 7.5pt; }
}
body { font-family: "DejaVu Sans", sans-serif; font-size: 9.5pt; color: #222;
       max-width: 980px; margin: 1.5em auto; line-height: 1.35; }
h1 { font-size: 17pt; margin: 0 0 0.2em; }
h2 { font-size: 12.5pt; margin: 1.2em 0 0.4em; border-bottom: 1px solid #bbb; }
h3 { font-size: 10pt; margin: 0.8em 0 0.3em; }
table { border-collapse: collapse; margin: 0.4em 0 1em; font-size: 8pt; }
td, th { border: 1px solid #ccc; padding: 2px 5px; text-align: left; vertical-align: top; }
td.n { text-align: right; white-space: nowrap; }
table.wide { width: 100%; table-layout: fixed; }
table.wide th, table.wide td { overflow-wrap: break-word; hyphens: auto; }
caption { caption-side: top; text-align: left; font-weight: bold; padding: 0.2em 0; }
img { max-width: 100%; }
figure { margin: 0.6em 0; break-inside: avoid; }
figcaption { font-size: 8pt; color: #444; }
tr { break-inside: avoid; }
.dated { font-size: 9pt; margin: 0.3em 0 1em; }
.dated td, .dated th { border: none; padding: 1px 8px 1px 0; }
.note { background: #fff4e0; border: 1px solid #e0b070; padding: 4px 8px; font-size: 8.5pt; }
.source { font-size: 7.5pt; color: #555; }
.gap { color: #777; font-style: italic; }
th.year { white-space: nowrap; }
section.page { break-before: page; }
.sign td { height: 2.2em; min-width: 14em; }
@media print { .note.screen { display: none; } body { max-width: none; margin: 0; } }
"""


def render_html(data: ReportData) -> str:
    footer = (
        f"{data.programme_name}, report of {data.report_date.isoformat()}, "
        f"data as of decision {data.position}"
    )
    note_text = DEMONSTRATION_NOTE if data.demonstration else ""
    css = CSS.replace('"FOOTER"', _css_string(footer)).replace('"NOTE"', _css_string(note_text))
    note = (
        f'<p class="note screen">{html.escape(DEMONSTRATION_NOTE)}</p>'
        if data.demonstration
        else ""
    )
    title = f"Management report: {data.programme_name}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{css}</style></head>
<body>
{note}
<h1>{html.escape(title)}</h1>
{_dated(data)}
{_headline(data)}
{_targets_section(data)}
{_procurement_section(data)}
{_pipeline_section(data)}
{_sign_off(data)}
</body></html>
"""


def _css_string(text: str) -> str:
    """A CSS string literal, quoted."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
    return f'"{escaped}"'


def _dated(data: ReportData) -> str:
    rows = [
        ("Programme", f"{data.programme_name} ({data.programme_id}), {data.region}"),
        ("Report date", date_text(data.report_date)),
        (
            "Data as of",
            f"decision {data.position} (the last recorded decision the figures include)",
        ),
        ("Period charted", f"end of {data.first_year} to end of {data.last_year}, and now"),
    ]
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f'<table class="dated">{body}</table>'


def _headline(data: ReportData) -> str:
    rows = []
    for key, value in data.headline.items():
        marked = " (source)" if data.demonstration and key in PUBLISHED_FIGURES else ""
        rows.append(
            f"<tr><th>{html.escape(_headline_label(key))}{marked}</th>"
            f'<td class="n">{html.escape(_headline_value(key, value))}</td></tr>'
        )
    return (
        "<h2>Headline figures</h2>"
        '<p class="source">Source: counted from the recorded decisions.</p>'
        f"<table>{''.join(rows)}</table>"
    )


HEADLINE_LABELS = {
    "consortia_formed": "Consortia formed",
    "share_with_financial_arrangement": "Consortia with a new financial arrangement",
    "share_with_financial_arrangement_pct": "Consortia with a new financial arrangement",
    "procurement_commitments": "Circular procurement commitments",
    "communities_of_practice": "Communities of practice",
    "cop_meetings": "Community of practice meetings",
    "cop_avg_participants": "Participants per meeting, on average",
    "procurement_invested_eur": "Invested through circular procurement",
    "joint_trajectories": "Joint procurement trajectories",
}


def _headline_label(key: str) -> str:
    words = key.removesuffix("_pct").removesuffix("_eur").replace("_", " ")
    return HEADLINE_LABELS.get(key, words.capitalize())


def _headline_value(key: str, value: Any) -> str:
    if value is None:
        return "none yet"
    if key.endswith("_pct"):
        return share_text(value)
    if key.startswith("share_"):  # a fraction
        return share_text(100 * value)
    if key.endswith("_eur"):
        return f"EUR {number_text(value)}"
    return number_text(value) if isinstance(value, int | float) else str(value)


def _targets_section(data: ReportData) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(h.now.description or h.now.key)}</td>"
        f"<td>{html.escape(h.now.unit)}</td>"
        f'<td class="n">{number_text(h.now.baseline)}</td>'
        f'<td class="n">{number_text(h.now.current) or NOT_MEASURED}</td>'
        f'<td class="n">{number_text(h.now.target)}</td>'
        f"<td>{h.now.deadline.isoformat()}</td>"
        f'<td class="n">{share_text(h.now.share_reached_pct)}</td>'
        f'<td class="source">{html.escape(source_line(h.now))}'
        f"<br>target: {html.escape(h.now.source or 'no source given')}</td></tr>"
        for h in data.targets
    )
    years = sorted({y for h in data.targets for y in h.years})
    header = "".join(
        f"<th>{html.escape(h.now.description or h.now.key)}</th>" for h in data.targets
    )
    units = "".join(f"<th>{html.escape(h.now.unit)}</th>" for h in data.targets)
    history = "".join(
        f'<tr><th class="year">end of {y}</th>'
        + "".join(_history_cell(h.years[y]) for h in data.targets)
        + "</tr>"
        for y in years
    )
    return f"""<h2>Targets</h2>
<table><caption>Where each target stands now</caption>
<tr><th>target</th><th>unit</th><th>baseline</th><th>now</th><th>target</th><th>deadline</th>
<th>of the way</th><th>source</th></tr>{rows}</table>
<figure><img src="{data.charts["targets"].name}" alt="One small chart per target: its value
at the end of each year in its own unit, with the target as a dashed line; the table below
gives the same figures.">
<figcaption>Each target in its own unit at the end of each year (dot at the right: now). Dashed
line: the target. Shaded: not set yet, or not measured. Figures are never added across
units.</figcaption></figure>
<table><caption>Targets at the end of each year (the chart's data)</caption>
<tr><th>year</th>{header}</tr><tr><th></th>{units}</tr>{history}</table>"""


def _history_cell(t: TargetProgress | None) -> str:
    text = year_cell(t)
    gap = text in (NOT_SET, NOT_MEASURED)
    return f'<td class="{"gap" if gap else "n"}">{html.escape(text)}</td>'


def _procurement_section(data: ReportData) -> str:
    years = milestone_years(data.roadmap)
    summary = "".join(
        "<tr><th>{year}</th><td>{milestone}</td>{counts}</tr>".format(
            year=year,
            milestone=", ".join(
                sorted(
                    {
                        share_text(y.milestone)
                        for line in data.roadmap
                        for y in line.years
                        if y.year == year and y.milestone is not None
                    }
                )
            ),
            counts="".join(
                f'<td class="n">{milestone_counts(data.roadmap, year)[s]}</td>'
                for s in (MILESTONE_MET, MILESTONE_MISSED, NO_REPORT)
            ),
        )
        for year in years
    )
    per_organisation = "".join(
        f"<tr><td>{html.escape(line.organisation)}</td>"
        f"<td>{html.escape(line.organisation_kind)}</td>"
        + "".join(_milestone_cell(line, year) for year in years)
        + f"<td>{html.escape(_later_goals(line, data.last_year))}</td></tr>"
        for line in data.roadmap
    )
    year_heads = "".join(f"<th>{y}</th>" for y in years)
    if not data.roadmap:
        return (
            '<section class="page"><h2>Circular procurement</h2>'
            "<p>No procurement commitments recorded.</p></section>"
        )
    return f"""<section class="page"><h2>Circular procurement</h2>
<p class="source">Source: the commitments and yearly spend reports recorded (all categories of
an organisation together). A year is judged only where the organisation committed to a
milestone for it; the years up to {data.last_year} are shown.</p>
<figure><img src="{data.charts["procurement"].name}" alt="Per milestone year, how many
organisations met or missed their milestone or did not report, and each reporting
organisation's circular share against the milestone; the tables below give the same
figures.">
<figcaption>Left: organisations per milestone year by outcome. Right: each reporting
organisation's share in that year (one dot each), the milestone as a black line.</figcaption>
</figure>
<table><caption>Milestone years (the chart's data)</caption>
<tr><th>year</th><th>milestone</th><th>met</th><th>missed</th><th>no report</th></tr>
{summary}</table>
<table><caption>Each organisation at its milestones</caption>
<tr><th>organisation</th><th>kind</th>{year_heads}<th>later</th></tr>{per_organisation}
</table></section>"""


def _milestone_cell(line: RoadmapLine, year: int) -> str:
    found = next((y for y in line.years if y.year == year), None)
    if found is None or found.milestone is None:
        return '<td class="gap">no milestone</td>'
    share = share_text(found.share) if found.share is not None else ""
    text = f"{share} ({found.status})" if share else found.status
    return f"<td>{html.escape(text)}</td>"


def _later_goals(line: RoadmapLine, after: int) -> str:
    later = [
        f"{share_text(float(p['share']))} by {int(p['year'])}"
        for p in line.path
        if p.get("year") is not None and int(p["year"]) > after and p.get("share") is not None
    ]
    if line.open_goal is not None:
        later.append(f"{share_text(line.open_goal)} as soon as possible")
    return ", ".join(later)


def _pipeline_section(data: ReportData) -> str:
    p = data.pipeline
    stages = [s for s in p.stages if p.totals.get(s, 0)]
    empty = [stage_words(s).lower() for s in p.stages if s not in stages]
    heads = "".join(f"<th>{html.escape(stage_words(s))}</th>" for s in stages)
    rows = "".join(
        f"<tr><td>{html.escape(r.name)}"
        + (
            f'<br><span class="source">incl. {html.escape(", ".join(r.substreams))}</span>'
            if r.substreams
            else ""
        )
        + "</td>"
        + "".join(f'<td class="n">{r.counts.get(s, 0) or ""}</td>' for s in stages)
        + f'<td class="n">{len(r.stalled) or ""}</td><td class="n">{len(r.abandoned) or ""}</td>'
        + "</tr>"
        for r in p.rows
    )
    totals = (
        "<tr><th>all streams</th>"
        + "".join(f'<td class="n">{p.totals.get(s, 0)}</td>' for s in stages)
        + f'<td class="n">{p.stalled}</td><td class="n">{p.abandoned}</td></tr>'
    )
    return f"""<section class="page"><h2>Pipeline</h2>
<p class="source">Source: the recorded decisions on each initiative. A sub-stream's initiatives
count in its stream; stalled and abandoned initiatives are counted apart, never in a
stage.</p>
<figure><img src="{data.charts["pipeline"].name}" alt="Active initiatives per stream by stage,
and stalled and abandoned initiatives per stream; the table below gives the same figures.">
<figcaption>Active initiatives per stream, by the stage they stand in; right: stalled and
abandoned.</figcaption></figure>
<table class="wide"><caption>Initiatives per stream and stage (the chart's data)</caption>
<tr><th style="width: 24%">stream</th>{heads}<th>stalled</th><th>abandoned</th></tr>
{rows}{totals}</table>
{_none_in(empty)}</section>"""


def _none_in(stages: list[str]) -> str:
    if not stages:
        return ""
    return (
        f'<p class="source">No active initiative stands in: {html.escape(", ".join(stages))}.</p>'
    )


def _sign_off(data: ReportData) -> str:
    return f"""<h2>Approval</h2>
<p>Report on {html.escape(data.programme_name)} of {date_text(data.report_date)}, figures as of
decision {data.position}.</p>
<table class="sign"><tr><th>Programme director</th><td></td></tr>
<tr><th>Date</th><td></td></tr><tr><th>Signature</th><td></td></tr></table>"""


# -- the PDF ------------------------------------------------------------------------------


def write_pdf(page: Path, pdf: Path) -> Path:
    """Render ``report.pdf`` from the same HTML as ``index.html`` (charts by relative path)."""
    try:
        import weasyprint
    except OSError as error:  # WeasyPrint loads pango through ctypes at import
        raise KringloopError(
            f"cannot write {pdf.name}: WeasyPrint needs the system libraries "
            f"{PDF_LIBRARIES} ({error}); {page.name} and the charts are written"
        ) from None
    weasyprint.HTML(filename=str(page), base_url=str(page.parent)).write_pdf(str(pdf))
    return pdf
