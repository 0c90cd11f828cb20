"""report.pdf, printed by WeasyPrint from the same HTML page as index.html."""

from __future__ import annotations

from pathlib import Path

from domain.errors import KringloopError

PDF_LIBRARIES = "libpango-1.0-0 libpangoft2-1.0-0"  # what WeasyPrint loads from the system


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
