"""The organisation pages: in Dutch they show the figures of projections.organisations (which
takes them from projections.procurement, as the roadmap does); the procurement forms in
Chromium; a procurement lead enters its own organisation's spend and is refused for
another's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.api.web.pages.organisations import members
from adapters.i18n import translator
from projections import organisations, procurement
from tests.api.conftest import Api
from tests.web.conftest import screenshot
from tests.web.procured import (
    LEAD,
    MANAGER,
    OTHER,
    OWN,
    UNCOMMITTED,
    Live,
    cells,
    csrf_of,
    decide,
    logged_in,
    opened,
    procured,
)

NL = translator("nl")


@pytest.fixture(scope="session")
def first_steps(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """tests/api's `loaded_home`, `api` and tests/web's `live_server` on this folder."""
    return procured(tmp_path_factory)


def test_the_list_in_dutch_shows_every_organisation_by_kind_as_the_projection_has_it(
    api: Api,
) -> None:
    logged_in(api, MANAGER)
    backend = api.client.app.state.backend  # type: ignore[attr-defined]
    found = organisations.organisations(backend.fresh_reads(), members(backend))
    html = api.client.get("/organisations?lang=nl").text
    assert {o.kind for o in found} >= {"municipality", "province", "company"}
    for kind in {o.kind for o in found}:
        assert f">{NL.term('organisation_kind', kind)} <small>" in html
        rows = cells(
            html.replace(f'data-kind="{kind}"', f'id="kind-table-{kind}"'), f"kind-table-{kind}"
        )
        expected = [o for o in found if o.kind == kind]
        assert [r[0] for r in rows] == [o.name for o in expected]
        for row, o in zip(rows, expected, strict=True):
            status = NL.term("milestone_status", o.latest_status) if o.commitments else "geen"
            assert row[1:] == [status, NL.number(o.communities), NL.number(o.consortia)]
    committed = [o for o in found if o.commitments]
    assert len(committed) == 3  # the demo's first three commitments
    assert "gemeente" in html
    assert "Organisaties" in html


def test_an_organisation_page_in_dutch_shows_the_roadmaps_years_and_each_spend_report(
    api: Api,
) -> None:
    logged_in(api, MANAGER)
    backend = api.client.app.state.backend  # type: ignore[attr-defined]
    reads = backend.fresh_reads()
    detail = organisations.organisation(reads, OWN, members(backend))
    assert detail is not None
    (c,) = detail.commitments
    # the same line as the programme's roadmap
    line = next(
        r
        for r in procurement.roadmap(reads, c.programme_id, c.years[-1].year)
        if r.commitment_id == c.commitment_id
    )
    assert c.years == line.years
    html = api.client.get(f"/organisations/{OWN}?lang=nl").text

    years = cells(html, f"years-{c.commitment_id}")
    assert [r[0] for r in years] == [str(y.year) for y in line.years]
    for row, y in zip(years, line.years, strict=True):
        assert row[1] == (NL.percent(y.share, 1) if y.share is not None else "geen rapportage")
        assert row[3] == NL.term("milestone_status", y.status)
    assert any(r[3] == "mijlpaal gemist" for r in years)  # Landsmeer missed 2022's 10 %

    spend = cells(html, f"spend-{c.commitment_id}")
    assert len(spend) == len(c.spend) > 5
    for row, s in zip(spend, c.spend, strict=True):
        assert row[:4] == [
            str(s.year),
            NL.term("category", s.category),
            NL.money(s.total_spend_eur),
            NL.money(s.circular_spend_eur),
        ]
        assert row[5] == (NL.percent(s.milestone) if s.milestone is not None else "geen")
    assert "€" in spend[0][2]
    assert "," in years[1][1]
    assert "Bron:" in html  # where the figures come from
    for step in (10, 50, 100):
        assert NL.percent(step) in html  # the path


def test_an_organisations_page_lists_its_communities_and_consortia(api: Api) -> None:
    logged_in(api, MANAGER)
    backend = api.client.app.state.backend  # type: ignore[attr-defined]
    detail = organisations.organisation(
        backend.fresh_reads(), "gemeente-amsterdam", members(backend)
    )
    assert detail is not None
    assert detail.communities
    assert detail.consortia
    html = api.client.get("/organisations/gemeente-amsterdam?lang=nl").text
    for m in detail.communities:
        assert f'data-community="{m.community_id}"' in html
    rows = cells(html.replace('class="ams-table__table consortia"', 'id="consortia"'), "consortia")
    assert [r[0] for r in rows] == [s.title for s in detail.consortia]
    assert [r[1] for r in rows] == [NL.term("consortium_role", s.role) for s in detail.consortia]


def test_the_tables_download_with_the_pages_figures(api: Api) -> None:
    logged_in(api, MANAGER)
    listed = api.client.get("/organisations?format=csv")
    assert listed.status_code == 200
    assert "Gemeente Landsmeer" in listed.text
    spend = api.client.get(f"/organisations/{OWN}?table=spend&format=xlsx")
    assert spend.status_code == 200
    assert spend.headers["content-disposition"].startswith('attachment; filename="spend-')


def test_a_procurement_lead_reports_its_own_spend_and_is_refused_for_another(api: Api) -> None:
    logged_in(api, LEAD)
    own = api.client.get(f"/organisations/{OWN}?lang=nl").text
    assert 'data-command="report-spend"' in own
    other = api.client.get(f"/organisations/{OTHER}?lang=nl")
    assert "data-command" not in other.text  # no forms on another organisation's page
    report = {
        "year": "2025",
        "category": "catering",
        "total_spend_eur": "200.000",
        "circular_spend_eur": "50.000",
        "reason": "Jaarrapportage inkoop 2025",
        "csrf_token": csrf_of(own),
    }

    refused = api.client.post(f"/organisations/{OTHER}/commands/report-spend?lang=nl", data=report)

    assert refused.status_code == 403
    assert "niet besluiten namens" in refused.text
    assert "Gemeente Ouder-Amstel" in refused.text
    assert 'id="refusal"' in refused.text  # announced on its own: the page offers no form
    recorded = api.client.post(
        f"/organisations/{OWN}/commands/report-spend", data=report, follow_redirects=False
    )
    assert recorded.status_code == 303
    assert recorded.headers["location"] == f"/organisations/{OWN}?done=report-spend"
    backend = api.client.app.state.backend  # type: ignore[attr-defined]
    detail = organisations.organisation(backend.fresh_reads(), OWN, members(backend))
    assert detail is not None
    assert [
        (s.year, s.category, s.total_spend_eur)
        for s in detail.commitments[0].spend
        if s.category == "catering"
    ] == [(2025, "catering", 200_000.0)]
    after = organisations.organisation(backend.fresh_reads(), OTHER, members(backend))
    assert after is not None
    assert all(s.category != "catering" or s.year != 2025 for s in after.commitments[0].spend)


def test_an_invalid_form_is_refused_with_its_field_and_the_values_kept(api: Api) -> None:
    logged_in(api, MANAGER)
    page = api.client.get(f"/organisations/{OWN}?lang=nl").text
    response = api.client.post(
        f"/organisations/{OWN}/commands/report-spend?lang=nl",
        data={
            "year": "twintig",
            "category": "ict",
            "total_spend_eur": "1000",
            "circular_spend_eur": "10",
            "reason": "typo in het jaar",
            "csrf_token": csrf_of(page),
        },
    )
    assert response.status_code == 422
    html = response.text
    assert 'href="#report-spend-year"' in html  # the alert links to the field
    assert 'id="report-spend-year-error"' in html
    assert 'aria-invalid="true"' in html
    assert 'value="twintig"' in html
    assert "typo in het jaar" in html


# -- in Chromium ---------------------------------------------------------------------------


def test_a_manager_commits_an_organisation_adopts_a_category_and_reports_spend(
    page: Any, live_server: Live
) -> None:
    opened(page, live_server, MANAGER, f"/organisations/{UNCOMMITTED}")
    assert page.locator("form[data-command='report-spend']").count() == 0

    decide(
        page,
        "commit",
        {
            "path-1-year": "2028",
            "path-1-share": "10",
            "path-2-year": "2030",
            "path-2-share": "50",
            "path-goal": "100",
            "reason": "Raadsbesluit circulair inkopen",
        },
    )
    assert page.locator(".recorded").get_attribute("data-done") == "commit"
    assert "Vastgelegd" in page.locator("[role=status]").inner_text()
    assert page.locator(f"[data-commitment='{UNCOMMITTED}'] .path li").count() == 3

    decide(page, "adopt-category", {"category": "ict", "reason": "ICT circulair inkopen"})
    assert page.locator(".recorded").get_attribute("data-done") == "adopt-category"
    assert "ICT" in page.locator(f"[data-commitment='{UNCOMMITTED}'] dl").inner_text()

    decide(
        page,
        "report-spend",
        {
            "year": "2026",
            "category": "ict",
            "total_spend_eur": "1.000.000",
            "circular_spend_eur": "250.000",
            "reason": "Inkooprapportage 2026",
        },
    )
    assert page.locator(".recorded").get_attribute("data-done") == "report-spend"
    row = page.locator(f"#spend-{UNCOMMITTED} tr[data-year='2026'][data-category='ict']")
    assert row.locator(".total").inner_text() == NL.money(1_000_000)
    assert row.locator(".share").inner_text() == NL.percent(25, 1)
    screenshot(page, "organisation-after-report")


def test_a_procurement_lead_enters_its_own_spend_report_in_the_browser(
    page: Any, live_server: Live
) -> None:
    base = opened(page, live_server, LEAD, f"/organisations/{OTHER}")
    assert page.locator("form[data-command]").count() == 0
    page.goto(f"{base}/organisations/{OWN}?lang=nl")

    decide(
        page,
        "report-spend",
        {
            "year": "2025",
            "category": "cleaning",
            "total_spend_eur": "80.000",
            "circular_spend_eur": "20.000,50",
            "reason": "Schoonmaak 2025",
        },
    )

    assert page.locator(".recorded").get_attribute("data-done") == "report-spend"
    row = page.locator("tr[data-year='2025'][data-category='cleaning']")
    assert row.locator(".circular").inner_text() == NL.money(20_000.5)
    screenshot(page, "organisation-lead-report")


def test_a_second_commitment_from_a_stale_page_is_refused(api: Api) -> None:
    logged_in(api, MANAGER)
    page = api.client.get(f"/organisations/{OWN}?lang=nl").text
    assert 'data-command="commit"' not in page  # committed: the page offers no commit form
    response = api.client.post(
        f"/organisations/{OWN}/commands/commit?lang=nl",
        data={
            "path-1-year": "2030",
            "path-1-share": "20",
            "reason": "opnieuw",
            "csrf_token": csrf_of(page),
        },
    )
    assert response.status_code == 409
    assert "heeft zich in dit programma al verbonden" in response.text
    backend = api.client.app.state.backend  # type: ignore[attr-defined]
    detail = organisations.organisation(backend.fresh_reads(), OWN, members(backend))
    assert detail is not None
    assert len(detail.commitments) == 1
