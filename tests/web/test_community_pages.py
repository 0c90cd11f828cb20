"""The communities of practice: in Dutch the pages show the counts of
projections.procurement.community_activity (the programme monitor's) and each meeting and
trajectory as the read models hold them; a manager founds, admits, holds a meeting and starts a
trajectory in Chromium; others get no forms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.i18n import translator
from projections import organisations, procurement
from tests.api.conftest import Api
from tests.web.conftest import screenshot
from tests.web.procured import (
    COMMUNITY,
    LEAD,
    MANAGER,
    Live,
    cells,
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


def test_the_list_in_dutch_shows_the_programme_monitors_counts(api: Api) -> None:
    logged_in(api, MANAGER)
    reads = api.client.app.state.backend.fresh_reads()  # type: ignore[attr-defined]
    found = procurement.community_activity(reads, "mra-circular")
    assert organisations.communities(reads) == found
    html = api.client.get("/communities?lang=nl").text
    rows = cells(html, "communities")
    assert [r[0] for r in rows] == [c.name for c in found]
    for row, c in zip(rows, found, strict=True):
        assert c.average_attendance is not None
        assert row[1:] == [
            NL.number(c.members),
            NL.number(c.meetings),
            NL.number(c.average_attendance, 1),
            NL.number(c.trajectories),
            NL.money(c.invested_eur),
        ]
    assert "€" in rows[0][5]
    assert "mln" in rows[0][5]
    assert "Bron:" in html
    assert "Communities of practice" in html


def test_a_community_page_in_dutch_shows_members_by_kind_meetings_and_trajectories(
    api: Api,
) -> None:
    logged_in(api, MANAGER)
    reads = api.client.app.state.backend.fresh_reads()  # type: ignore[attr-defined]
    detail = organisations.community(reads, COMMUNITY)
    assert detail is not None
    html = api.client.get(f"/communities/{COMMUNITY}?lang=nl").text

    kinds = {m.kind for m in detail.members}
    assert kinds >= {"municipality", "province", "company", "knowledge_institute"}
    for kind in kinds:
        listed = [m for m in detail.members if m.kind == kind]
        assert f">{NL.term('organisation_kind', kind)} <small>({NL.number(len(listed))})" in html
    for m in detail.members:
        assert f'data-member="{m.organisation_id}"' in html

    meetings = cells(html, "meetings")
    assert meetings == [
        [str(m.meeting), NL.day(m.held_on), m.topic, NL.number(m.attendees)]
        for m in detail.meetings
    ]
    assert "maart 2016" in meetings[0][1]  # a Dutch date
    trajectories = cells(html, "trajectories")
    assert trajectories == [
        [
            t.trajectory,
            NL.term("category", t.category),
            NL.day(t.started_on),
            NL.number(t.participants),
            NL.money(t.invested_eur),
        ]
        for t in detail.trajectories
    ]
    assert NL.money(detail.activity.invested_eur) in html
    assert sum(t.invested_eur for t in detail.trajectories) == detail.activity.invested_eur


def test_the_tables_download(api: Api) -> None:
    logged_in(api, MANAGER)
    listed = api.client.get("/communities?format=csv")
    assert listed.status_code == 200
    meetings = api.client.get(f"/communities/{COMMUNITY}?table=meetings&format=csv")
    assert meetings.status_code == 200
    assert "Kick-off" in meetings.text
    members = api.client.get(f"/communities/{COMMUNITY}?table=members&format=xlsx")
    assert members.headers["content-disposition"].startswith('attachment; filename="members-')


def test_only_a_manager_gets_the_forms(api: Api) -> None:
    logged_in(api, LEAD)
    assert "data-command" not in api.client.get("/communities").text
    assert "data-command" not in api.client.get(f"/communities/{COMMUNITY}").text


# -- in Chromium ---------------------------------------------------------------------------


def test_a_manager_founds_a_community_and_admits_a_member(page: Any, live_server: Live) -> None:
    opened(page, live_server, MANAGER, "/communities")

    decide(
        page,
        "found-community",
        {
            "community_id": "cop-textiles",
            "name": "Community of practice textiel",
            "moderator": "Amsterdam Economic Board",
            "reason": "Inkopers van textiel willen samen optrekken",
        },
    )

    assert page.url.split("#")[0].endswith("/communities/cop-textiles?done=found-community")
    assert page.locator(".recorded").get_attribute("data-done") == "found-community"
    assert page.locator("h1").inner_text() == "Community of practice textiel"

    decide(
        page,
        "join-community",
        {
            "organisation": "Gemeente Zaanstad",
            "organisation_kind": "municipality",
            "reason": "Het hoofd inkoop van Zaanstad sluit aan",
        },
    )

    assert page.locator(".recorded").get_attribute("data-done") == "join-community"
    assert page.locator("[data-member='gemeente-zaanstad']").is_visible()
    assert "gemeente (1)" in page.locator("#members-municipality").inner_text()
    screenshot(page, "community-founded")


def test_a_manager_holds_a_meeting_and_starts_a_trajectory(page: Any, live_server: Live) -> None:
    opened(page, live_server, MANAGER, f"/communities/{COMMUNITY}")
    meetings = page.locator("#meetings tbody tr").count()

    decide(
        page,
        "hold-meeting",
        {"topic": "Circulaire verkeersborden: de aanbesteding", "reason": "Bijeenkomst 7"},
        checks=("Gemeente Almere", "Gemeente Haarlem", "Proef Infra BV"),
    )

    assert page.locator(".recorded").get_attribute("data-done") == "hold-meeting"
    assert page.locator("#meetings tbody tr").count() == meetings + 1
    row = page.locator("#meetings tr[data-meeting='7']")
    assert row.locator(".attendees").inner_text() == "3"
    assert "Circulaire verkeersborden" in row.inner_text()

    decide(
        page,
        "start-trajectory",
        {
            "trajectory": "circular-cleaning-2026",
            "category": "cleaning",
            "invested_eur": "2.500.000",
            "reason": "Gezamenlijke aanbesteding schoonmaak",
        },
        checks=("Gemeente Almere", "Gemeente Haarlem"),
    )

    assert page.locator(".recorded").get_attribute("data-done") == "start-trajectory"
    row = page.locator("#trajectories tr[data-trajectory='circular-cleaning-2026']")
    assert row.locator(".invested").inner_text() == NL.money(2_500_000)
    assert "Schoonmaak" in row.inner_text()
    screenshot(page, "community-after-trajectory")


def test_a_trajectory_of_one_participant_is_refused_with_the_values_kept(
    page: Any, live_server: Live
) -> None:
    opened(page, live_server, MANAGER, f"/communities/{COMMUNITY}")

    decide(
        page,
        "start-trajectory",
        {"trajectory": "alone", "category": "ict", "reason": "Alleen"},
        checks=("Gemeente Almere",),
    )

    alert = page.locator("#start-trajectory-refusal")
    assert alert.is_visible()
    assert page.locator("#start-trajectory-participants-1").is_checked()  # the values kept
    assert page.locator("[name='trajectory']").input_value() == "alone"
    assert page.locator("#trajectories tr[data-trajectory='alone']").count() == 0
