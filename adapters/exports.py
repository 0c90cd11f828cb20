"""A table view written as a file a spreadsheet opens: CSV as Dutch Excel reads it (UTF-8
with a BOM, ';' between fields, a decimal comma) or XLSX with real numbers and dates."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from typing import Literal

from adapters.tabular import Cell, Column, Table

ExportFormat = Literal["csv", "xlsx"]
CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES: dict[ExportFormat, str] = {"csv": CSV_MEDIA_TYPE, "xlsx": XLSX_MEDIA_TYPE}
DEFAULT_DELIMITER = ";"
# A text starting with one of these is a formula to a spreadsheet (CSV injection): it is
# written with a leading apostrophe in CSV, and as a string cell in XLSX.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_XLSX_FORMATS = {
    "int": "0",
    "float": "General",
    "percent": "0.0%",
    "money": "#,##0.00",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm:ss",
}
_MAX_WIDTH, _MIN_WIDTH = 60, 6
_UNSAFE_IN_NAMES = re.compile(r"[^A-Za-z0-9._-]+")


def delimiter_of(value: str) -> str:
    """The CSV delimiter an option or setting names: one character, or "tab"."""
    found = "\t" if value.lower() in ("tab", "\\t") else value
    if len(found) != 1 or found in "\"'\r\n" or found.isalnum():
        raise ValueError(f"CSV delimiter {value!r}: use one character such as ';' ',' or tab")
    return found


def file_name(table: Table, export_format: ExportFormat, day: date) -> str:
    """pipeline-2026-11-30.csv: letters, digits, '.', '_' and '-' only, safe in a header."""
    stem = _UNSAFE_IN_NAMES.sub("-", table.name)[:100]
    return f"{stem}-{day.isoformat()}.{export_format}"


def render(table: Table, export_format: ExportFormat, delimiter: str = DEFAULT_DELIMITER) -> bytes:
    return to_xlsx(table) if export_format == "xlsx" else to_csv(table, delimiter)


def to_csv(table: Table, delimiter: str = DEFAULT_DELIMITER) -> bytes:
    """UTF-8 with a BOM (so Excel reads the accents), a header row, then the rows. Numbers
    get a decimal comma unless the fields themselves are separated by commas."""
    decimal = "." if delimiter == "," else ","
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([column.header for column in table.columns])
    for row in table.rows:
        cells = zip(row, table.columns, strict=True)
        writer.writerow([_csv_cell(value, column, decimal) for value, column in cells])
    return out.getvalue().encode("utf-8-sig")


def _csv_cell(value: Cell, column: Column, decimal: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _naive_utc(value).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return _number(value).replace(".", decimal)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _number(value: int | float) -> str:
    """15 significant digits, as many as Excel keeps: 1.85, not 1.8499999999999999."""
    if isinstance(value, float):
        return "0" if value == 0 else format(value, ".15g")
    return str(value)


def _naive_utc(moment: datetime) -> datetime:
    """Spreadsheets know no time zones: an aware moment is written as UTC."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def to_xlsx(table: Table) -> bytes:
    """One sheet: a bold header row with the panes frozen under it and a filter on it,
    numbers and dates as such, columns as wide as their contents (within reason)."""
    from openpyxl import Workbook  # loaded only when a workbook is written
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    book.properties.title = table.title
    sheet = book.create_sheet(_sheet_title(table.sheet or table.title))
    for index in range(1, len(table.columns) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = _width(table, index - 1)
    sheet.freeze_panes = "A2"
    if table.columns:
        last = get_column_letter(len(table.columns))
        sheet.auto_filter.ref = f"A1:{last}{len(table.rows) + 1}"
    bold = Font(bold=True)
    header = []
    for column in table.columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in table.rows:
        cells = []
        for value, column in zip(row, table.columns, strict=True):
            cell = WriteOnlyCell(sheet, value=_xlsx_value(value, column, ILLEGAL_CHARACTERS_RE))  # type: ignore[arg-type]  # openpyxl writes dates too
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif column.kind in _XLSX_FORMATS and cell.value is not None:
                cell.number_format = _XLSX_FORMATS[column.kind]
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_value(value: Cell, column: Column, illegal: object) -> Cell:
    if isinstance(value, datetime):
        return _naive_utc(value)
    if column.kind == "percent" and isinstance(value, int | float):
        return value / 100  # Excel's percent format multiplies by 100 to show it
    if isinstance(value, str):
        return str(illegal.sub("", value))[:32_767]  # type: ignore[attr-defined]
    return value


def _sheet_title(title: str) -> str:
    """What Excel accepts as a sheet's name: none of []:*?/\\, at most 31 characters (cut
    at a word where one ends in time), single spaces."""
    cleaned = " ".join("".join(" " if c in "[]:*?/\\" else c for c in title).split())
    if len(cleaned) > 31:
        cut = cleaned[:32].rsplit(" ", 1)[0] if " " in cleaned[:32] else cleaned[:31]
        cleaned = cut[:31].rstrip()
    return cleaned or "Sheet"


def _width(table: Table, index: int) -> float:
    column = table.columns[index]
    shown = {"date": 10, "datetime": 19, "percent": 7, "money": 14}.get(column.kind)
    longest = len(column.header)
    for row in table.rows:
        value = row[index]
        if value is not None:
            longest = max(longest, shown or len(str(value)))
    return float(min(max(longest + 2, _MIN_WIDTH), _MAX_WIDTH))
