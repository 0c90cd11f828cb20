"""The report's one HTML page (index.html), from which report.pdf is printed: dated,
sourced, each chart with its data table."""

from __future__ import annotations

import html

from adapters.report.data import (
    NOT_MEASURED,
    NOT_SET,
    ReportData,
    date_text,
    milestone_counts,
    milestone_years,
    number_text,
    stage_words,
    year_cell,
)
from projections.figures import (
    DEMONSTRATION_NOTE,
    Figure,
    share_text,
)
from projections.procurement import (
    MILESTONE_MET,
    MILESTONE_MISSED,
    NO_REPORT,
    RoadmapLine,
)
from projections.progress import TargetProgress

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
    for f in data.headline:
        marked = " (source)" if data.demonstration and f.published else ""
        rows.append(
            f"<tr><th>{html.escape(f.label.capitalize())}{marked}</th>"
            f'<td class="n">{html.escape(_headline_value(f))}</td></tr>'
        )
    return (
        "<h2>Headline figures</h2>"
        '<p class="source">Source: counted from the recorded decisions.</p>'
        f"<table>{''.join(rows)}</table>"
    )


def _headline_value(f: Figure) -> str:
    if f.value is None:
        return "none yet"
    if f.unit == "%":
        return share_text(f.value)
    if f.unit == "EUR":
        return f"EUR {number_text(f.value)}"
    return number_text(f.value)


def _targets_section(data: ReportData) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(h.now.description or h.now.key)}</td>"
        f"<td>{html.escape(h.now.unit)}</td>"
        f'<td class="n">{number_text(h.now.baseline)}</td>'
        f'<td class="n">{number_text(h.now.current) or NOT_MEASURED}</td>'
        f'<td class="n">{number_text(h.now.target)}</td>'
        f"<td>{h.now.deadline.isoformat()}</td>"
        f'<td class="n">{share_text(h.now.share_reached_pct)}</td>'
        f'<td class="source">{html.escape(h.now.measured_by)}'
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
        f"{share_text(share)} by {year:.0f}"
        for p in line.path
        if (year := p.get("year")) is not None
        and year > after
        and (share := p.get("share")) is not None
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
