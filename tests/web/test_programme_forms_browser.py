"""The programme page's decision forms in Chromium, in Dutch: a manager fills each form that
tests/web/test_programme_pages.py does not (the phase, a target, a stream, a mandate
revoked, a role granted and revoked, a member, the scale-up criteria), submits it, and sees
the decision on the next page: the note naming the step, and the record changed in the
table it belongs to. A refused submission of each form keeps what was typed, names the
field it concerns, and records nothing.

One server and one logged-in browser for the module: each test changes its own part of the
record (phases 3 and 4, new targets and streams, broker-bas's textiles mandate, new identities,
audrey's auditor role, a new member, the criteria), so their order does not matter."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.i18n import translator
from adapters.settings import Settings
from adapters.store import open_read_store
from domain.engine import today_in_programme_tz
from projections import queries
from tests.security.conftest import event_count
from tests.serving import free_port, serving
from tests.web.procured import MANAGER, decide, log_in

pytestmark = pytest.mark.slow  # 25-40 s on a busy machine with two cores

PROGRAMME = "/programmes/mra-circular"
NL = translator("nl")


@pytest.fixture(scope="module")
def server(
    first_steps: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """The first-steps scenario on a copy of its own, served on a loopback port."""
    template, tokens = first_steps
    home = tmp_path_factory.mktemp("programme-forms") / "home"
    shutil.copytree(template, home)
    with serving(Settings(home=home), free_port()) as base:
        yield base, home, tokens


@pytest.fixture(scope="module")
def manager(browser: Any, server: tuple[str, Path, dict[str, str]]) -> Iterator[Any]:
    """A browser page with the programme manager logged in."""
    base, _, tokens = server
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    log_in(page, base, tokens[MANAGER])
    yield page
    context.close()


@pytest.fixture
def programme(manager: Any, server: tuple[str, Path, dict[str, str]]) -> Any:
    """The programme page, freshly opened in Dutch (every form folded)."""
    manager.goto(f"{server[0]}{PROGRAMME}?lang=nl")
    assert manager.locator("html").get_attribute("lang") == "nl"
    return manager


def recorded(page: Any, command: str) -> None:
    """The next page says the step was recorded, naming it in Dutch."""
    assert page.url.split("#")[0].endswith(f"{PROGRAMME}?done={command}")
    assert page.locator("#recorded h2").inner_text() == "Vastgelegd"
    note = page.locator(f"#recorded [data-done='{command}']")
    assert note.inner_text() == NL.term("command", command)


def today() -> date:
    return today_in_programme_tz()


# -- each form, taken ---------------------------------------------------------------------


def test_phase_four_started_and_phase_three_approved(programme: Any) -> None:
    page = programme
    decide(
        page,
        "record-phase-change",
        {"phase": "4", "phase_status": "started", "reason": "Landelijke uitrol besloten"},
    )
    recorded(page, "record-phase-change")
    phase = page.locator("tr[data-phase='4']")
    assert phase.locator("[data-status]").get_attribute("data-status") == "started"
    assert phase.locator("[data-status]").inner_text() == NL.term("phase_status", "started")
    assert NL.day(today()) in phase.inner_text()
    assert "huidige" in phase.locator("th").inner_text()
    assert "huidige fase: Mainstreamen" in page.locator("main p").first.inner_text()

    decide(
        page,
        "record-phase-change",
        {"phase": "3", "phase_status": "approved", "reason": "Opschaling goedgekeurd"}
        | {"approved_by": "Amsterdam Economic Board\nMRA-directie"},
    )
    recorded(page, "record-phase-change")
    approved = page.locator("tr[data-phase='3']")
    assert approved.locator("[data-status]").get_attribute("data-status") == "approved"
    assert approved.locator("[data-status]").inner_text() == NL.term("phase_status", "approved")
    assert f"{NL.day(today())} (door Amsterdam Economic Board, MRA-directie)" in (
        approved.inner_text()
    )


def test_a_target_measured_by_the_programme_and_one_counted_from_decisions(
    programme: Any,
) -> None:
    page = programme
    decide(
        page,
        "set-target",
        {"key": "reused-building-materials", "description": "Hergebruikte bouwmaterialen"}
        | {"unit": "%", "baseline": "5", "target": "25.5", "deadline": "2030-12-31"}
        | {"source": "Uitvoeringsagenda 2026", "measure": "", "reason": "Nieuwe doelstelling"},
    )
    recorded(page, "set-target")
    row = page.locator("tr[data-target='reused-building-materials']")
    assert row.locator("th").inner_text().startswith("Hergebruikte bouwmaterialen")
    assert "eenheid: %; doelstelling vastgesteld in: Uitvoeringsagenda 2026" in (
        row.locator("th").inner_text()
    )
    cells = row.locator("td")
    assert cells.nth(0).inner_text() == NL.number(5, 2)
    assert cells.nth(1).inner_text() == NL.gettext("not measured")
    assert cells.nth(2).inner_text() == NL.number(25.5, 2)
    assert cells.nth(3).inner_text() == NL.day(date(2030, 12, 31))
    assert row.locator("td.source").get_attribute("data-source-kind") == "not measured"

    decide(
        page,
        "set-target",
        {"key": "chains-and-trajectories", "description": "Ketens en inkooptrajecten"}
        | {"unit": "ketens", "baseline": "0", "target": "12", "deadline": "2028-06-30"}
        | {"measure": "chains_redesigned", "reason": "Inkoop telt mee"},
        checks=(NL.gettext("Count joint procurement trajectories"),),
    )
    recorded(page, "set-target")
    counted = page.locator("tr[data-target='chains-and-trajectories']")
    assert counted.locator("td.source").get_attribute("data-source-kind") == ("recorded decisions")
    source = counted.locator("td.source").inner_text()
    assert NL.gettext("consortia + joint procurement trajectories") in source
    assert counted.locator("td.current").get_attribute("data-value") != ""


def test_a_stream_and_a_sub_stream_registered(programme: Any) -> None:
    page = programme
    decide(
        page,
        "register-stream",
        {"stream": "solar-panels", "name": "Zonnepanelen", "reason": "Nieuwe grondstofstroom"},
    )
    recorded(page, "register-stream")
    row = page.locator("tr[data-stream='solar-panels']")
    assert row.locator("th").inner_text() == "Zonnepanelen"
    assert row.locator("code").first.inner_text() == "solar-panels"

    decide(
        page,
        "register-stream",
        {"stream": "inverters", "name": "Omvormers", "parent": "solar-panels"}
        | {"reason": "Deelstroom"},
    )
    recorded(page, "register-stream")
    sub = page.locator("tr[data-stream='solar-panels'] li[data-substream='inverters']")
    assert sub.inner_text() == "Omvormers inverters"


def test_a_mandate_revoked(programme: Any) -> None:
    page = programme
    row = page.locator("tr[data-mandate='broker-bas/textiles']")
    assert row.locator("td").last.inner_text() == NL.gettext("holds")
    decide(
        page,
        "revoke-mandate",
        {"broker": "broker-bas", "streams": "textiles", "reason": "Textiel gaat naar Anna"},
    )
    recorded(page, "revoke-mandate")
    row = page.locator("tr[data-mandate='broker-bas/textiles']")
    assert row.locator("td").last.inner_text() == NL.gettext("does not hold")
    yesterday = NL.day(today() - timedelta(days=1))
    assert f"vanaf 4 januari 2016, laatste dag {yesterday}" in row.inner_text()
    other = page.locator("tr[data-mandate='broker-bas/construction']")
    assert other.locator("td").last.inner_text() == NL.gettext("holds")


def test_an_organisation_role_granted(programme: Any) -> None:
    page = programme
    assert page.locator("tr[data-role='inkoop-zaanstad/organisation']").count() == 0
    decide(
        page,
        "grant-role",
        {"identity": "inkoop-zaanstad", "role": "organisation"}
        | {"organisation": "Gemeente Zaanstad", "reason": "Voert de inkoopcijfers in"},
    )
    recorded(page, "grant-role")
    row = page.locator("tr[data-role='inkoop-zaanstad/organisation']")
    assert row.locator("th").inner_text() == "inkoop-zaanstad"
    assert row.locator("td").nth(0).inner_text() == ""  # no person named behind it
    assert row.locator("td").nth(1).inner_text() == (
        f"{NL.term('role', 'organisation')} (voor Gemeente Zaanstad)"
    )
    assert row.locator("td").nth(2).inner_text() == f"vanaf {NL.day(today())}, zonder einde"
    assert row.locator("td").last.inner_text() == NL.gettext("holds")


def test_a_role_revoked(programme: Any) -> None:
    page = programme
    decide(
        page,
        "revoke-role",
        {"identity": "audrey", "role": "auditor", "reason": "Controle afgerond"},
    )
    recorded(page, "revoke-role")
    row = page.locator("tr[data-role='audrey/auditor']")
    yesterday = NL.day(today() - timedelta(days=1))
    assert row.locator("td").nth(2).inner_text() == (
        f"vanaf 1 januari 2016, laatste dag {yesterday}"
    )
    assert row.locator("td").last.inner_text() == NL.gettext("does not hold")


def test_a_person_named_behind_an_identity(programme: Any) -> None:
    """The name is personal data: sealed in the record, shown in the roles table."""
    page = programme
    decide(
        page,
        "name-person",
        {"identity": "broker-bas", "name": "Bas Bakker", "reason": "De makelaar achter de id"},
    )
    recorded(page, "name-person")
    row = page.locator("tr[data-role='broker-bas/broker']")
    assert row.locator("td").nth(0).inner_text() == "Bas Bakker"


def test_a_member_added(programme: Any, server: tuple[str, Path, dict[str, str]]) -> None:
    page = programme
    before = int(page.locator("main p").first.inner_text().split("deelnemende")[0].split()[-1])
    decide(
        page,
        "add-member",
        {"organisation": "Gemeente Haarlemmermeer", "organisation_kind": "municipality"}
        | {"reason": "Sluit aan bij het programma"},
    )
    recorded(page, "add-member")
    assert f"{before + 1} deelnemende organisaties" in page.locator("main p").first.inner_text()
    page.goto(f"{server[0]}/organisations?lang=nl")
    municipalities = page.locator("table[data-kind='municipality']")
    assert municipalities.get_by_role("link", name="Gemeente Haarlemmermeer").is_visible()


def test_the_scale_up_criteria_set(
    programme: Any, server: tuple[str, Path, dict[str, str]]
) -> None:
    page = programme
    decide(
        page,
        "set-scale-up-criteria",
        {"min_months_operating": "18", "min_tonnes_per_year": "2500", "min_jobs_fte": "4.5"}
        | {"reason": "Strengere opschalingscriteria"},
        checks=(NL.gettext("No open risks"),),
    )
    recorded(page, "set-scale-up-criteria")
    # no page shows the criteria (only the scheduled check reads them): the read side
    reads = open_read_store(Settings(home=server[1]))
    try:
        criteria, _ = queries.phase3_candidates(reads, "mra-circular", today())
    finally:
        reads.close()
    assert criteria == {
        "min_months_operating": 18,
        "min_tonnes_per_year": 2500.0,
        "min_jobs_fte": 4.5,
        "no_open_risks": True,
    }


def test_the_scale_up_criteria_without_the_open_risks_rule(
    programme: Any, server: tuple[str, Path, dict[str, str]]
) -> None:
    page = programme
    page.locator("#step-set-scale-up-criteria summary").click()
    form = page.locator("form[data-command='set-scale-up-criteria']")
    form.locator("[name=min_months_operating]").fill("6")
    form.locator("[name=min_tonnes_per_year]").fill("800")
    form.locator("[name=reason]").fill("Open risico's wegen niet meer mee")
    box = form.locator("[name=no_open_risks]")
    if box.is_checked():  # the person unticks the box, as the form shows it
        form.locator("label[for='set-scale-up-criteria-no_open_risks']").click()
    assert not box.is_checked()
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    recorded(page, "set-scale-up-criteria")
    reads = open_read_store(Settings(home=server[1]))
    try:
        criteria, _ = queries.phase3_candidates(reads, "mra-circular", today())
    finally:
        reads.close()
    assert criteria["min_months_operating"] == 6
    assert criteria["no_open_risks"] is False


# -- each form, refused -------------------------------------------------------------------

REFUSED: list[Any] = [
    # phase 2 approved without naming who approved it: the refusal concerns 'approved by'
    ("record-phase-change", {"phase": "2", "phase_status": "approved"}, "approved_by"),
    # a key that is not a slug
    (
        "set-target",
        {"key": "Nieuwe Doelstelling", "unit": "t", "baseline": "1", "target": "2"}
        | {"deadline": "2031-01-01"},
        "key",
    ),
    ("register-stream", {"stream": "biomass", "name": "Biomassa opnieuw"}, "stream"),
    ("revoke-mandate", {"broker": "broker-anna", "streams": "textiles"}, "broker"),
    ("grant-role", {"identity": "broker-anna", "role": "broker"}, "identity"),
    ("revoke-role", {"identity": "niemand", "role": "auditor"}, "identity"),
    ("add-member", {"organisation": "", "organisation_kind": "company"}, "organisation"),
    (
        "set-scale-up-criteria",
        {"min_months_operating": "700", "min_tonnes_per_year": "100"},
        "min_months_operating",
    ),
]


@pytest.mark.parametrize(
    ("command", "fields", "field"),
    REFUSED,
    ids=[case.values[0] if hasattr(case, "values") else case[0] for case in REFUSED],
)
def test_a_refused_form_keeps_what_was_typed_and_names_the_field(
    programme: Any,
    server: tuple[str, Path, dict[str, str]],
    command: str,
    fields: dict[str, str],
    field: str,
) -> None:
    page = programme
    typed = fields | {"reason": f"Geweigerd: {command}", "evidence": "notulen-2026.pdf"}
    before = event_count(server[1])
    decide(page, command, typed)
    assert event_count(server[1]) == before, "a refused step records nothing"
    assert page.locator(f"#step-{command}").get_attribute("open") is not None
    form = page.locator(f"form[data-command='{command}']")
    alert = form.locator("[role=alert]")
    assert alert.is_visible()
    assert alert.locator("h3").inner_text() == "De stap is niet gezet"
    label = form.locator(f"label[for='{command}-{field}']").inner_text().split("*")[0].strip()
    link = alert.locator(f"a[href='#{command}-{field}']")
    assert link.count() == 1, alert.inner_text()
    assert link.inner_text().startswith(f"{label}: "), link.inner_text()
    control = form.locator(f"#{command}-{field}")
    assert control.get_attribute("aria-invalid") == "true"
    assert f"{command}-{field}-error" in (control.get_attribute("aria-describedby") or "")
    for name, value in typed.items():
        assert form.locator(f"[name='{name}']").input_value() == value, name
