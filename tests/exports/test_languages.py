"""The downloads speak the door's language: a page's in the page's language (Dutch unless
asked otherwise), the API's in the Accept-Language language when one is sent and in English
when none is (a script), the CLI's in its locale's. Only headings, titles and sheet names
change: the cells, the ';' and the decimal comma stay."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import openpyxl
import pytest
from babel.messages.pofile import read_po

import adapters.tabular
from adapters.cli.exporting import Export, ExportFormat, write_export
from adapters.exports import to_xlsx
from adapters.i18n import LOCALE_DIR, translator
from adapters.tabular import Column, Table, localised, procurement_categories
from tests.api.conftest import Api
from tests.exports.sheets import BOM, csv_rows, workbook
from tests.web.test_pages import logged_in

DUTCH_PIPELINE = "stroom;naam;deelstromen;voorgesteld;expertonderzoek;marktconsultatie"
DUTCH_PIPELINE_END = (
    "stilgevallen;stopgezet;actieve initiatieven;stilgevallen initiatieven;stopgezette initiatieven"
)
ENGLISH_PIPELINE = "stream;name;sub-streams;proposed;expert scan;market consultation"
ENGLISH_PIPELINE_END = (
    "stalled;abandoned;active initiatives;stalled initiatives;abandoned initiatives"
)


def first_line(body: bytes) -> str:
    assert body.startswith(BOM)
    return body[len(BOM) :].decode("utf-8").split("\r\n")[0]


def book(body: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(body))


def test_a_page_downloads_dutch_headings_by_default_and_english_when_asked(api: Api) -> None:
    logged_in(api, "audrey")
    dutch = api.client.get("/pipeline?format=csv")
    assert dutch.status_code == 200
    assert dutch.headers["content-language"] == "nl"
    assert first_line(dutch.content).startswith(DUTCH_PIPELINE)
    assert first_line(dutch.content).endswith(DUTCH_PIPELINE_END)
    english = api.client.get("/pipeline?format=csv&lang=en")
    assert first_line(english.content).startswith(ENGLISH_PIPELINE)
    assert first_line(english.content).endswith(ENGLISH_PIPELINE_END)
    # the cells are the same in both: slugs and figures
    assert [list(r.values()) for r in csv_rows(dutch.content)] == [
        list(r.values()) for r in csv_rows(english.content)
    ]


def test_a_dutch_workbook_has_dutch_headings_sheet_and_title(api: Api) -> None:
    logged_in(api, "audrey")
    body = api.client.get("/programmes/mra-circular?format=xlsx&lang=nl").content
    found = book(body)
    sheet = found.active
    assert sheet.title == "Doelstellingen"
    assert found.properties.title == "Programma mra-circular: doelstellingen"
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["doel", "sleutel", "eenheid"]
    assert "bereikt aandeel (%)" in header
    english = book(api.client.get("/programmes/mra-circular?format=xlsx&lang=en").content)
    assert english.active.title == "Targets"
    assert english.properties.title == "Programme mra-circular: targets"
    pipeline = workbook(api.client.get("/pipeline?format=xlsx&lang=en").content)
    assert pipeline.title == "Pipeline", "not 'Pipeline  initiatives per strea'"


def test_a_dutch_csv_keeps_the_semicolons_and_the_decimal_comma(api: Api) -> None:
    logged_in(api, "audrey")
    body = api.client.get("/programmes/mra-circular/roadmap?format=csv").content
    rows = csv_rows(body)
    assert rows
    assert "circulair aandeel (%)" in rows[0]
    shares = [r["circulair aandeel (%)"] for r in rows if r["circulair aandeel (%)"]]
    assert any("," in share for share in shares) or all(s.isdigit() for s in shares)
    assert not any("." in share for share in shares)


@pytest.mark.parametrize(
    ("accept_language", "expected", "content_language"),
    [
        (None, ENGLISH_PIPELINE, "en"),
        ("nl", DUTCH_PIPELINE, "nl"),
        ("nl-NL,nl;q=0.9,en;q=0.8", DUTCH_PIPELINE, "nl"),
        ("en-GB,en;q=0.9", ENGLISH_PIPELINE, "en"),
    ],
)
def test_the_api_downloads_in_the_accept_language_language_and_english_without_one(
    api: Api, accept_language: str | None, expected: str, content_language: str
) -> None:
    headers = api.as_("audrey")
    if accept_language is not None:
        headers["Accept-Language"] = accept_language
    answer = api.client.get("/api/pipeline", params={"format": "csv"}, headers=headers)
    assert answer.status_code == 200
    assert first_line(answer.content).startswith(expected)
    assert answer.headers["content-language"] == content_language
    assert answer.headers["content-disposition"].startswith('attachment; filename="pipeline-')


def test_the_api_workbook_follows_accept_language_too(api: Api) -> None:
    headers = {
        **api.as_("audrey"),
        "Accept": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Accept-Language": "nl",
    }
    sheet = workbook(api.client.get("/api/decisions", headers=headers).content)
    assert sheet.title == "Besluiten"
    assert [c.value for c in sheet[1]][:3] == ["ingang", "soort onderwerp", "onderwerp"]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("nl", ["inkoopcategorie", "organisaties"]), ("en", ["category", "organisations"])],
)
def test_the_cli_writes_headings_in_its_language(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, lang: str, expected: list[str]
) -> None:
    monkeypatch.setenv("KRINGLOOP_LANG", lang)
    out = tmp_path / "categories.csv"
    write_export(Export(ExportFormat.CSV, out, ";"), procurement_categories("p", []))
    assert first_line(out.read_bytes()).split(";")[:2] == expected


def marked_in_tabular() -> list[str]:
    """Every N_("...") in adapters/tabular.py: the headings, titles and sheet names."""
    tree = ast.parse(Path(adapters.tabular.__file__).read_text())
    return sorted(
        {
            node.args[0].value
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "N_"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        }
    )


def test_every_heading_title_and_sheet_name_has_a_dutch_text() -> None:
    marked = marked_in_tabular()
    assert len(marked) > 80
    with (LOCALE_DIR / "nl" / "LC_MESSAGES" / "messages.po").open("rb") as file:
        catalogue = read_po(file, locale="nl")
    missing = [m for m in marked if not (catalogue.get(m) and catalogue.get(m).string)]
    assert missing == []


def test_every_sheet_name_is_one_excel_accepts_in_both_languages() -> None:
    source = Path(adapters.tabular.__file__).read_text()
    sheets = [
        line.split('N_("')[1].split('")')[0] for line in source.splitlines() if "sheet=N_(" in line
    ]
    assert len(sheets) >= 15
    for lang in ("nl", "en"):
        for sheet in sheets:
            name = translator(lang).gettext(sheet)
            assert len(name) <= 31, name
            assert not set(name) & set("[]:*?/\\"), name


def test_a_sheet_name_has_no_double_space_and_is_cut_at_a_word() -> None:
    columns = (Column("a"),)
    long = Table("x", "Pipeline: initiatives per stream and stage", columns, [])
    assert workbook(to_xlsx(long)).title == "Pipeline initiatives per stream"
    colon = Table("x", "Programme mra-circular: targets", columns, [])
    assert workbook(to_xlsx(colon)).title == "Programme mra-circular targets"


def test_localised_translates_headings_and_the_stage_words_not_the_cells() -> None:
    table = Table(
        "t",
        "Programme {programme}: targets",
        (Column("stream"), Column("proposed", "int", term="stage")),
        [("timber", 3)],
        sheet="Targets",
        title_args={"programme": "mra-circular"},
    )
    dutch = localised(table, translator("nl"))
    assert [c.header for c in dutch.columns] == ["stroom", "voorgesteld"]
    assert dutch.title == "Programma mra-circular: doelstellingen"
    assert dutch.sheet == "Doelstellingen"
    assert dutch.rows == table.rows
    assert dutch.name == table.name, "the file name stays English"
    english = localised(table, translator("en"))
    assert [c.header for c in english.columns] == ["stream", "proposed"]
    assert english.title == "Programme mra-circular: targets"
