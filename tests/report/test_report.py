"""`kringloop report`: a dated management report (report.pdf and index.html from one page)
whose figures are the read models' own.

The programme is the small first-steps scenario, marked as demonstration data, with a target
set in 2020 (five years after the programme started), a programme measurement and three
procurement commitments with spend reports around their 2022 milestone."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from adapters.demo import scenario_path
from adapters.report import (
    NOT_MEASURED,
    NOT_SET,
    date_text,
    gather,
    number_text,
    write_report,
)
from adapters.settings import Settings
from adapters.store import Stores
from projections.figures import DEMONSTRATION_NOTE, as_of_position, share_text
from projections.progress import programme_progress
from tests.e2e.test_cli import as_json, kringloop

PROGRAMME = "mra-circular"
LATE_TARGET = "regional-consortia"
REPORT_DATE = date(2026, 3, 2)


def _command(command: str, effective: str, **fields: Any) -> dict[str, Any]:
    return {
        "command": command,
        "actor": fields.pop("actor", "board-secretariat"),
        "reason": "decided for the report test",
        "evidence": [],
        "effective": effective,
        **fields,
    }


def _commitment(org: str, shares: dict[int, tuple[int, int]]) -> list[dict[str, Any]]:
    slug = org.lower()
    lines = [
        _command(  # the organisation's procurement lead enters its own figures
            "grant-role",
            "2019-10-01",
            identity=org,
            role="organisation",
            organisation=org,
        ),
        _command(
            "commit",
            "2019-10-01",
            actor=org,
            commitment_id=slug,
            programme_id=PROGRAMME,
            organisation=org,
            organisation_kind="municipality",
            path=[{"year": 2022, "share": 10}, {"year": 2025, "share": 50}, {"share": 100}],
        ),
        _command(
            "adopt-category", "2019-10-01", actor=org, commitment_id=slug, category="catering"
        ),
    ]
    for year, (total, circular) in shares.items():
        lines.append(
            _command(
                "report-spend",
                f"{year + 1}-02-15",
                actor=org,
                commitment_id=slug,
                year=year,
                category="catering",
                total_spend_eur=total,
                circular_spend_eur=circular,
                investment_eur=0,
            )
        )
    return lines


def _programme_lines() -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in scenario_path("first-steps").read_text().splitlines()]
    next(line for line in lines if line["command"] == "create-programme")["demonstration"] = True
    lines += [
        _command(  # set five years after the programme started: the report's crash
            "set-target",
            "2020-03-01",
            programme_id=PROGRAMME,
            key=LATE_TARGET,
            description="Regional consortia",
            unit="consortia",
            baseline=0,
            target=10,
            deadline="2025-12-31",
            source="Board decision of 2020",
            measure="consortia_formed",
        ),
        _command(
            "record-target-measurement",
            "2021-06-30",
            programme_id=PROGRAMME,
            key="raw-material-imports",
            value=-6,
            source="regional material-flow monitor 2021",
        ),
        *_commitment("Aalsmeer", {2021: (1_000_000, 50_000), 2022: (1_000_000, 120_000)}),
        *_commitment("Almere", {2022: (2_000_000, 100_000)}),
        *_commitment("Diemen", {}),
    ]
    return lines


@dataclass
class Built:
    home: Path
    out: Path
    written: list[Path]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    home = tmp_path_factory.mktemp("programme")
    commands = home / "programme.jsonl"
    commands.write_text("\n".join(json.dumps(line) for line in _programme_lines()) + "\n")
    kringloop(home, "apply", str(commands), "--json")
    out = home / "report"
    written = as_json(kringloop(home, "report", "--out", str(out), "--json"))["files"]
    return Built(home, out, [Path(p) for p in written])


@pytest.fixture
def stores(built: Built) -> Iterator[Stores]:
    opened = Stores(Settings(home=built.home, database_url=None))
    yield opened
    opened.close()


def _pdf_text(path: Path) -> tuple[int, list[str]]:
    reader = PdfReader(path)
    return len(reader.pages), [page.extract_text() or "" for page in reader.pages]


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_a_target_set_after_the_first_charted_year_no_longer_crashes_the_report(
    stores: Stores, tmp_path: Path
) -> None:
    """`ValueError: x and y must have same first dimension` while the series were lists
    appended per year only for the targets that existed that year."""
    written = write_report(
        stores.engine, stores.fresh_reads(), PROGRAMME, tmp_path, 2015, 2025, today=REPORT_DATE
    )
    assert {p.name for p in written} >= {"targets.png", "index.html", "report.pdf"}
    page = (tmp_path / "index.html").read_text()
    late = next(
        row for row in page.split("<tr>") if "end of 2019</th>" in row
    )  # the year-by-year table: the late target's column says it was not set yet
    assert NOT_SET in late


def test_years_before_a_target_existed_are_not_set_yet_and_unmeasured_years_say_so(
    stores: Stores,
) -> None:
    data = gather(stores.engine, stores.fresh_reads(), PROGRAMME, None, 2025, REPORT_DATE)
    assert data.first_year == 2015  # the programme's first year
    history = {h.now.key: h for h in data.targets}
    late = history[LATE_TARGET].years
    assert all(late[y] is None for y in range(2015, 2020))
    assert all(late[y] is not None for y in range(2020, 2026))
    imports = history["raw-material-imports"].years
    assert imports[2018] is not None
    assert imports[2018].current is None  # set, not measured yet
    assert [imports[y].current for y in (2019, 2021)] == [-4, -6]  # type: ignore[union-attr]
    assert history["environmental-pressure"].years[2025].current is None  # type: ignore[union-attr]


def test_the_report_writes_a_pdf_from_the_same_page(built: Built) -> None:
    names = sorted(p.name for p in built.written)
    assert names == ["index.html", "pipeline.png", "procurement.png", "report.pdf", "targets.png"]
    page = (built.out / "index.html").read_text()
    for chart in ("targets.png", "procurement.png", "pipeline.png"):
        assert f'<img src="{chart}"' in page
    assert "http" not in page, "the page opens offline: no remote asset"
    assert (built.out / "report.pdf").read_bytes().startswith(b"%PDF-")


def test_the_pdf_is_dated_numbered_and_names_the_programme(built: Built, stores: Stores) -> None:
    pages, texts = _pdf_text(built.out / "report.pdf")
    assert pages >= 1
    for number, text in enumerate(texts, start=1):
        flat = _flat(text)
        assert f"page {number} / {pages}" in flat, "every page has its number"
        assert _flat(DEMONSTRATION_NOTE) in flat, "demonstration data says so on every page"
    everything = _flat(" ".join(texts))
    assert "Circular Economy, Amsterdam Metropolitan Area" in everything
    reads = stores.fresh_reads()
    report_day = re.search(r"Report date (\d+ \w+ \d{4})", everything)
    assert report_day is not None
    assert f"data as of decision {as_of_position(reads)}" in everything
    assert "Programme director" in everything
    assert "Signature" in everything


def test_the_report_date_is_written_as_a_director_reads_it(stores: Stores, tmp_path: Path) -> None:
    write_report(
        stores.engine, stores.fresh_reads(), PROGRAMME, tmp_path, None, 2025, today=REPORT_DATE
    )
    _, texts = _pdf_text(tmp_path / "report.pdf")
    everything = _flat(" ".join(texts))
    assert f"Report date {date_text(REPORT_DATE)}" in everything
    assert date_text(REPORT_DATE) == "2 March 2026"
    assert f"report of {REPORT_DATE.isoformat()}" in everything  # the footer


def test_target_figures_in_the_pdf_are_the_read_models_figures(
    built: Built, stores: Stores
) -> None:
    _, texts = _pdf_text(built.out / "report.pdf")
    everything = _flat(" ".join(texts))
    progress = programme_progress(stores.fresh_reads(), PROGRAMME)
    assert {t.key for t in progress} >= {LATE_TARGET, "raw-material-imports"}
    for t in progress:
        name = _flat(t.description)
        row = re.search(
            re.escape(name) + r" " + re.escape(_flat(t.unit)) + r" (.*?) (\d{4}-\d\d-\d\d)",
            everything,
        )
        assert row is not None, f"{t.key} has its row"
        figures = row.group(1).split(" ")
        current = number_text(t.current) if t.current is not None else NOT_MEASURED
        assert figures[0] == number_text(t.baseline)
        assert " ".join(figures[1:-1]) == current
        assert figures[-1] == number_text(t.target)
        after = everything[row.end() : row.end() + 400]
        if t.share_reached_pct is not None:
            assert after.startswith(" " + share_text(t.share_reached_pct))
        source = {
            "recorded decisions": "counted from recorded decisions",
            "programme measurement": "programme measurement of",
            "not measured": "not measured",
        }[t.source_kind]
        assert source in after, f"{t.key} says where its figure comes from"


def test_procurement_is_counted_per_milestone_year(built: Built) -> None:
    page = (built.out / "index.html").read_text()
    summary = re.search(r"<tr><th>2022</th><td>10 %</td>(.*?)</tr>", page)
    assert summary is not None
    met, missed, no_report = re.findall(r'<td class="n">(\d+)</td>', summary.group(1))
    # Aalsmeer 12 % met 10 %; Almere 5 % missed it; Diemen did not report
    assert (met, missed, no_report) == ("1", "1", "1")


def test_every_chart_has_its_data_table_as_text_alternative(built: Built) -> None:
    page = (built.out / "index.html").read_text()
    figures = re.findall(
        r"<figure>(.*?)</figure>\s*<table[^>]*><caption>(.*?)</caption>", page, re.S
    )
    assert len(figures) == 3
    for figure, caption in figures:
        assert re.search(r'alt="[^"]{40,}"', figure), "a chart says what it shows"
        assert "the chart's data" in caption


def test_the_pipeline_folds_sub_streams_into_their_stream(built: Built, stores: Stores) -> None:
    from projections.queries import pipeline

    board = pipeline(stores.fresh_reads(), PROGRAMME)
    page = (built.out / "index.html").read_text()
    table = page[page.index("Initiatives per stream and stage") :]
    for row in board.rows:
        assert f"<tr><td>{row.name}" in table
        if row.substreams:
            assert f"incl. {', '.join(row.substreams)}" in table
    assert f'<td class="n">{board.stalled}</td><td class="n">{board.abandoned}</td>' in table
