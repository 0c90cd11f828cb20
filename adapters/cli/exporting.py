"""`--format csv|xlsx --out FILE` on every command that prints a table: the options, and
writing the export to a file or to stdout."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from adapters.cli.context import door, errors, refuse

if TYPE_CHECKING:
    from adapters.tabular import Table


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


FormatOption = Annotated[
    ExportFormat | None,
    typer.Option(
        "--format",
        help="export the table instead of printing it: csv (UTF-8 with BOM, ';' and a decimal "
        "comma, as Dutch Excel reads it) or xlsx (an Excel workbook; needs --out)",
    ),
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        metavar="FILE",
        help="write the export to FILE (csv without --out goes to stdout); "
        "a .csv or .xlsx name alone picks the format",
    ),
]
DelimiterOption = Annotated[
    str | None,
    typer.Option(
        "--csv-delimiter",
        metavar="CHAR",
        help="between CSV fields: ';' (default, or KRINGLOOP_CSV_DELIMITER), ',' or tab; "
        "with ',' numbers get a decimal point",
    ),
]


@dataclass(frozen=True)
class Export:
    format: ExportFormat
    out: Path | None
    delimiter: str


def export_asked(
    ctx: typer.Context,
    chosen: ExportFormat | None,
    out: Path | None,
    delimiter: str | None,
    as_json: bool,
) -> Export | None:
    """The export asked for, checked before any reading; None prints the table as before."""
    if chosen is None and out is not None:
        suffix = out.suffix.lower().lstrip(".")
        if suffix not in ("csv", "xlsx"):
            refuse(f"--out {out}: say --format csv or --format xlsx", "invalid", as_json)
        chosen = ExportFormat(suffix)
    if chosen is None:
        return None
    if as_json:
        refuse("--json and --format: choose one", "invalid", as_json)
    if chosen is ExportFormat.XLSX and out is None:
        refuse(
            "an xlsx workbook is not for a terminal: give --out FILE.xlsx (or --format csv)",
            "invalid",
        )
    from adapters.exports import delimiter_of

    try:
        separator = delimiter_of(delimiter or door(ctx).settings.csv_delimiter)
    except ValueError as error:
        refuse(str(error), "invalid")
    return Export(chosen, out, separator)


def write_export(export: Export, table: Table) -> None:
    """Write the table to --out (saying where, on stderr) or, as CSV, to stdout."""
    from adapters.exports import render
    from adapters.i18n import cli_language, translator
    from adapters.tabular import localised

    shown = localised(table, translator(cli_language()))  # headings in the CLI's language
    body = render(shown, export.format.value, export.delimiter)
    if export.out is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    try:
        export.out.write_bytes(body)
    except OSError as error:
        refuse(f"cannot write {export.out}: {error.strerror or error}", "invalid")
    from adapters.cli.words import _

    said = _("wrote {rows} rows to {path}").format(rows=len(table.rows), path=export.out)
    errors.print(said, highlight=False)
