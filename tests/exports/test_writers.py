"""The writers on a table of every kind of column: what Excel finds when it opens them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from adapters.exports import delimiter_of, file_name, to_csv, to_xlsx
from adapters.tabular import Column, Table
from tests.exports.sheets import BOM, csv_rows, workbook, xlsx_rows

TABLE = Table(
    name="spend",
    title="Spend: per category / year",
    columns=(
        Column("organisation"),
        Column("year", "int"),
        Column("tonnes", "float"),
        Column("share (%)", "percent"),
        Column("spend (EUR)", "money"),
        Column("due", "date"),
        Column("recorded (UTC)", "datetime"),
    ),
    rows=[
        (
            "Súdwest-Fryslân",
            2023,
            1234.5,
            37.5,
            1_400_000.0,
            date(2024, 6, 3),
            datetime(2024, 6, 3, 8, 15, tzinfo=UTC),
        ),
        ('=HYPERLINK("http://x")', 2024, None, None, 12.25, None, None),
    ],
)


def test_csv_is_utf8_with_a_bom_and_semicolons_as_dutch_excel_expects() -> None:
    body = to_csv(TABLE)
    assert body.startswith(BOM)
    lines = body[len(BOM) :].decode("utf-8").split("\r\n")
    assert lines[0] == "organisation;year;tonnes;share (%);spend (EUR);due;recorded (UTC)"
    assert lines[1] == "Súdwest-Fryslân;2023;1234,5;37,5;1400000;2024-06-03;2024-06-03 08:15:00"


def test_csv_with_commas_between_fields_keeps_the_decimal_point() -> None:
    rows = csv_rows(to_csv(TABLE, delimiter=","), delimiter=",")
    assert (rows[0]["tonnes"], rows[0]["share (%)"]) == ("1234.5", "37.5")


def test_csv_text_that_a_spreadsheet_would_run_as_a_formula_is_defused() -> None:
    rows = csv_rows(to_csv(TABLE))
    assert rows[1]["organisation"] == '\'=HYPERLINK("http://x")'
    assert rows[1]["tonnes"] == ""


def test_xlsx_has_a_bold_header_frozen_under_it_and_a_filter() -> None:
    sheet = workbook(to_xlsx(TABLE))
    assert [c.value for c in sheet[1]] == [c.header for c in TABLE.columns]
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G3"
    assert sheet.title == "Spend per category year", "no []:*?/\\, single spaces"


def test_xlsx_numbers_are_number_cells_and_dates_are_date_cells() -> None:
    sheet = workbook(to_xlsx(TABLE))
    organisation, year, tonnes, _, spend, due, recorded = sheet[2]
    assert organisation.value == "Súdwest-Fryslân"
    assert (year.data_type, year.value) == ("n", 2023)
    assert (tonnes.data_type, tonnes.value) == ("n", 1234.5)
    assert (spend.data_type, spend.value, spend.number_format) == ("n", 1_400_000, "#,##0.00")
    assert due.is_date
    assert due.value.date() == date(2024, 6, 3)
    assert recorded.is_date
    # written in UTC: Excel knows no time zones
    assert recorded.value.replace(tzinfo=UTC) == datetime(2024, 6, 3, 8, 15, tzinfo=UTC)


def test_xlsx_percentages_are_fractions_shown_as_percent() -> None:
    share = workbook(to_xlsx(TABLE))["D2"]
    assert (share.data_type, share.value) == ("n", 0.375)
    assert share.number_format.endswith("%")
    assert xlsx_rows(to_xlsx(TABLE))[1]["share (%)"] is None


def test_xlsx_text_that_looks_like_a_formula_stays_text() -> None:
    cell = workbook(to_xlsx(TABLE))["A3"]
    assert cell.data_type == "s"
    assert cell.value == '=HYPERLINK("http://x")'


def test_xlsx_columns_are_as_wide_as_their_contents() -> None:
    sheet = workbook(to_xlsx(TABLE))
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEFG"}
    assert widths["A"] >= len('=HYPERLINK("http://x")')
    assert widths["G"] >= len("2024-06-03 08:15:00")
    assert all(6 <= width <= 60 for width in widths.values())


def test_an_empty_table_still_has_its_header() -> None:
    empty = Table("none", "Nothing", TABLE.columns, [])
    assert csv_rows(to_csv(empty)) == []
    assert xlsx_rows(to_xlsx(empty)) == []


@pytest.mark.parametrize(("given", "meant"), [(";", ";"), (",", ","), ("tab", "\t"), ("|", "|")])
def test_a_delimiter_is_one_character_or_tab(given: str, meant: str) -> None:
    assert delimiter_of(given) == meant


@pytest.mark.parametrize("given", ["", ";;", "a", "1", '"', "\n"])
def test_a_delimiter_that_would_garble_the_file_is_refused(given: str) -> None:
    with pytest.raises(ValueError, match="CSV delimiter"):
        delimiter_of(given)


def test_file_names_are_dated_and_safe_in_a_header() -> None:
    assert file_name(TABLE, "csv", date(2026, 11, 30)) == "spend-2026-11-30.csv"
    odd = Table('a"b\r\nc/d', "t", TABLE.columns, [])
    assert file_name(odd, "xlsx", date(2026, 11, 30)) == "a-b-c-d-2026-11-30.xlsx"
