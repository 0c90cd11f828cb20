"""`kringloop report`: a dated management report a programme director can sign.

One HTML page (``index.html``, opens offline) and ``report.pdf`` rendered from that same page
by WeasyPrint (A4, page numbers, DejaVu fonts embedded). Every figure comes from the read
models (``projections``): the targets from ``programme_progress`` (their history from the
decisions that had taken effect by the end of each year), procurement from ``roadmap``, the
pipeline from ``queries.pipeline``. Each chart (matplotlib, PNG) has its data table below it
as the text alternative.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from adapters.report.charts import pipeline_chart, procurement_chart, targets_chart
from adapters.report.data import NOT_MEASURED, NOT_SET, date_text, gather, number_text
from adapters.report.page import render_html
from adapters.report.pdf import write_pdf
from domain.engine import Engine
from projections.store import ReadStore

__all__ = ["NOT_MEASURED", "NOT_SET", "date_text", "gather", "number_text", "write_report"]


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
        "targets": targets_chart(data, out / "targets.png"),
        "procurement": procurement_chart(data, out / "procurement.png"),
        "pipeline": pipeline_chart(data, out / "pipeline.png"),
    }
    page = out / "index.html"
    page.write_text(render_html(data), encoding="utf-8")
    return [*data.charts.values(), page, write_pdf(page, out / "report.pdf")]
