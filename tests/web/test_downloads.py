"""A download in the browser: the pipeline page's Excel link saves a workbook of real cells,
headed in the page's language.

Here, beside the other browser tests, so one Chromium serves them all: a second session-wide
browser started from another folder keeps its own event loop running, which the next
browser and Prefect's sync calls then refuse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.i18n import translator
from domain.engine import today_in_programme_tz
from tests.exports.sheets import xlsx_rows
from tests.web.test_browser import log_in


def test_a_browser_downloads_the_pipeline_workbook(
    live_server: tuple[str, dict[str, str]],
    page: Any,
    tmp_path: Path,
) -> None:
    url, tokens = live_server
    log_in(page, url, tokens["broker-bas"])
    with page.expect_download() as download:
        page.click("a[href='/pipeline?format=xlsx']")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == f"pipeline-{today_in_programme_tz()}.xlsx"
    rows = xlsx_rows(saved.read_bytes())
    assert rows
    # headed in the page's language (the browser's Accept-Language chose it)
    lang = page.evaluate("document.documentElement.lang")
    scaled_up = translator(lang).term("stage", "scaled_up")
    assert all(isinstance(row[scaled_up], int) for row in rows)
