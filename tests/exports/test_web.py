"""The pages' download links: the table on the page as CSV or XLSX, the API's rows."""

from __future__ import annotations

import re
from typing import Any

import pytest

from domain.engine import today_in_programme_tz
from tests.api.conftest import Api
from tests.exports.sheets import (
    check_categories,
    check_history,
    check_pipeline,
    check_progress,
    check_roadmap,
    csv_rows,
    xlsx_rows,
)
from tests.web.test_pages import logged_in

PAGES = [
    # page, its download link, the API read with the same rows, the check
    ("/pipeline", "/pipeline?format={}", "/api/pipeline", check_pipeline),
    (
        "/programmes/mra-circular",
        "/programmes/mra-circular?format={}",
        "/api/programmes/mra-circular/progress",
        check_progress,
    ),
    (
        "/programmes/mra-circular",
        "/programmes/mra-circular?table=pipeline&amp;format={}",
        "/api/pipeline?programme_id=mra-circular",
        check_pipeline,
    ),
    (
        "/programmes/mra-circular/roadmap",
        "/programmes/mra-circular/roadmap?format={}",
        "/api/programmes/mra-circular/roadmap",
        check_roadmap,
    ),
    (
        "/programmes/mra-circular/roadmap",
        "/programmes/mra-circular/roadmap?table=categories&amp;format={}",
        "/api/programmes/mra-circular/procurement/categories",
        check_categories,
    ),
    (
        "/initiatives/diaper-recycling",
        "/initiatives/diaper-recycling?format={}",
        "/api/audit/initiatives/diaper-recycling/history",
        check_history,
    ),
]


@pytest.mark.parametrize(
    ("shown_at", "link", "api_read", "check"), PAGES, ids=[link for _, link, _, _ in PAGES]
)
@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_each_table_page_links_a_download_with_the_apis_rows(
    api: Api, shown_at: str, link: str, api_read: str, check: Any, export_format: str
) -> None:
    logged_in(api, "audrey")
    html = api.client.get(shown_at).text
    href = link.format(export_format)
    assert f'href="{href}"' in html
    answer = api.client.get(href.replace("&amp;", "&") + "&lang=en")  # English headings
    assert answer.status_code == 200
    disposition = answer.headers["content-disposition"]
    assert re.fullmatch(
        rf'attachment; filename="[a-z0-9-]+-{today_in_programme_tz()}\.{export_format}"',
        disposition,
    )
    found = api.client.get(api_read, headers=api.as_("audrey")).json()
    rows = csv_rows(answer.content) if export_format == "csv" else xlsx_rows(answer.content)
    check(found, rows)


def test_the_audit_page_links_each_initiatives_history(api: Api) -> None:
    logged_in(api, "audrey")
    html = api.client.get("/audit").text
    for export_format in ("csv", "xlsx"):
        assert f'href="/initiatives/timber-reuse?format={export_format}"' in html


def test_a_download_needs_a_login(api: Api) -> None:
    answer = api.client.get("/pipeline?format=csv", follow_redirects=False)
    assert answer.status_code == 303


def test_the_history_of_an_unknown_initiative_is_an_error_page(api: Api) -> None:
    logged_in(api, "audrey")
    answer = api.client.get("/initiatives/nowhere?format=csv")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
