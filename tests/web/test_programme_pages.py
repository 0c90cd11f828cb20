"""The pipeline, programme, roadmap and audit pages in Dutch (English on request): streams
and stages in words, sub-streams folded in an expandable element, stalled and abandoned
initiatives apart; the programme's phases, its targets with the same figures as every other
door, who may decide what (mandates and roles) and its streams; programme decisions taken
through forms, in a browser too, and shown on the next page."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from adapters.i18n import translator
from adapters.settings import Settings
from adapters.store import open_read_store
from domain.engine import today_in_programme_tz
from domain.values import Stage
from projections import queries
from projections.progress import programme_progress
from tests.api.conftest import Api
from tests.security.conftest import event_count
from tests.web.conftest import screenshot
from tests.web.procured import Live, opened
from tests.web.procured import decide as decide_in_browser
from tests.web.test_pages import csrf_of, logged_in
from tests.web.test_pseudo_locale import untranslated

PROGRAMME = "/programmes/mra-circular"
NL, EN = translator("nl"), translator("en")


def words(markup: str) -> str:
    """The text of some markup, as a person reads it."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", markup, flags=re.S)
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text))).strip()
    return re.sub(r" ([:;,.)])", r"\1", text).replace("( ", "(")


def inner(markup: str, tag: str, attribute: str, value: str) -> str:
    """The markup inside the first ``<tag attribute="value">`` (not nested in its kind)."""
    found = re.search(
        rf'<{tag}\b[^>]*\b{attribute}="{re.escape(value)}"[^>]*>(.*?)</{tag}>', markup, re.S
    )
    assert found is not None, f'no <{tag} {attribute}="{value}">'
    return found.group(1)


def cell(row: str, css_class: str) -> tuple[str, str]:
    """A row's ``<td class="… css_class">``: its data-value and its text."""
    found = re.search(
        rf'<td class="[^"]*\b{css_class}\b[^"]*" data-value="([^"]*)">(.*?)</td>', row, re.S
    )
    assert found is not None, css_class
    return found.group(1), words(found.group(2))


# -- the pipeline -------------------------------------------------------------------------


def test_the_pipeline_in_dutch_names_streams_and_stages_in_words(api: Api) -> None:
    logged_in(api, "broker-anna")
    page = api.client.get("/pipeline?lang=nl").text
    board = inner(page, "table", "id", "pipeline-board")
    headers = re.findall(r'<th [^>]*scope="col"[^>]*>(.*?)</th>', board)
    assert [words(h) for h in headers] == ["Grondstofstroom"] + [NL.term("stage", s) for s in Stage]
    assert "expertonderzoek" in headers
    assert "randvoorwaarden vervullen" in headers
    biomass = inner(board, "tr", "data-stream", "biomass")
    name = re.search(r'<th [^>]*scope="row">\s*<a [^>]*>(.*?)</a>', biomass)
    assert name is not None
    assert name.group(1) == "Biomassa"
    folded = re.search(r"<details\b[^>]*>(.*?)</details>", biomass, re.S)
    assert folded is not None, "the sub-streams fold into an expandable element"
    assert words(folded.group(1)) == "1 deelstroom Bermgras"
    assert "<caption" in board
    for slug in ("expert_scan", "roadside-grass", "construction-timber"):
        assert slug not in words(page), f"a slug shows: {slug}"


def test_the_pipeline_in_english_on_request(api: Api) -> None:
    logged_in(api, "broker-anna")
    page = api.client.get("/pipeline?lang=en").text
    board = inner(page, "table", "id", "pipeline-board")
    assert "expert scan" in words(board)
    assert "Biomass" in words(inner(board, "tr", "data-stream", "biomass"))
    assert "Roadside grass" in words(inner(board, "tr", "data-stream", "biomass"))


def test_active_initiatives_on_the_board_stalled_and_abandoned_apart(api: Api) -> None:
    logged_in(api, "broker-anna")
    page = api.client.get("/pipeline").text  # Dutch: the default
    board = inner(page, "table", "id", "pipeline-board")
    apart = inner(page, "table", "id", "pipeline-apart")
    reads = open_read_store(Settings(home=api.home))
    try:
        found = queries.list_initiatives(reads, today_in_programme_tz())
    finally:
        reads.close()
    stopped = [i for i in found if i.status != "active"]
    assert stopped, "the scenario has a stalled and an abandoned initiative"
    for i in found:
        mark = f'data-initiative="{i.id}"'
        assert (mark in board) == (i.status == "active"), i.id
        assert (mark in apart) == (i.status != "active"), i.id
    for i in stopped:
        row = re.search(rf"<tr>\s*<th [^>]*>[^\n]*{mark_of(i.id)}.*?</tr>", apart, re.S)
        assert row is not None
        assert NL.term("status", i.status) in words(row.group(0))
        assert NL.term("stage", i.stage) in words(row.group(0))


def mark_of(initiative_id: str) -> str:
    return re.escape(f'data-initiative="{initiative_id}"')


def test_days_in_stage_only_where_the_initiative_waits(api: Api) -> None:
    logged_in(api, "broker-bas")
    page = api.client.get("/pipeline").text
    cards = dict(re.findall(r'data-initiative="([^"]+)">(.*?)</a>', page, re.S))
    assert "dagen in deze fase" in words(cards["timber-reuse"])  # fulfilling preconditions
    scaled = words(cards["roadside-grass-insulation"])  # scaled up: the days mean nothing
    assert "in deze fase" not in scaled


# -- the programme --------------------------------------------------------------------------


def test_the_programme_page_shows_its_phases_in_words(api: Api) -> None:
    logged_in(api, "audrey")
    page = api.client.get(f"{PROGRAMME}?lang=nl").text
    phases = [words(inner(page, "tr", "data-phase", str(n))) for n in (1, 2, 3, 4)]
    assert phases[0].startswith("Programma opstellen goedgekeurd 15 januari 2015")
    assert "10 december 2015 (door Amsterdam Economic Board, MRA)" in phases[0]
    assert phases[2].startswith("Opschalen tot regionaal niveau huidige gestart 7 januari 2019")
    assert phases[3].startswith("Mainstreamen: landelijk het nieuwe normaal niet gestart")


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_targets_show_the_same_figures_as_the_api_and_the_read_side(
    api: Api, lang: str
) -> None:
    """The doors compared: the page, the API and projections.progress.programme_progress."""
    logged_in(api, "audrey")
    t = translator(lang)
    page = api.client.get(f"{PROGRAMME}?lang={lang}").text
    door = api.client.get("/api/programmes/mra-circular/progress", headers=api.as_("audrey"))
    reads = open_read_store(Settings(home=api.home))
    try:
        figures = programme_progress(reads, "mra-circular")
    finally:
        reads.close()
    assert [(p.key, p.current, p.share_reached_pct) for p in figures] == [
        (p["key"], p["current"], p["share_reached_pct"]) for p in door.json()
    ]
    kinds = set()
    for p in figures:
        row = inner(page, "tr", "data-target", p.key)
        value, shown = cell(row, "current")
        share_value, share = cell(row, "share")
        if p.current is None:
            assert (value, shown) == ("", t.gettext("not measured"))
        else:
            assert float(value) == p.current
            assert shown == t.number(p.current, 2)
        if p.share_reached_pct is None:
            assert (share_value, share) == ("", "—")
        else:
            assert float(share_value) == p.share_reached_pct
            assert share == t.percent(p.share_reached_pct, 1)
        source = words(re.search(r'<td class="[^"]*\bsource\b.*?</td>', row, re.S).group(0))  # type: ignore[union-attr]
        assert source.startswith(t.term("source_kind", p.source_kind)), source
        assert t.term("target", p.key) in words(row)
        kinds.add(p.source_kind)
    assert kinds == {"recorded decisions", "programme measurement", "not measured"}
    measured = words(inner(page, "tr", "data-target", "raw-material-imports"))
    assert "regional material-flow monitor 2019" in measured
    assert t.day(figures[[p.key for p in figures].index("raw-material-imports")].measured_on) in (
        measured
    )


def test_the_programme_page_says_who_may_decide_what(api: Api) -> None:
    logged_in(api, "audrey")
    page = api.client.get(f"{PROGRAMME}?lang=nl").text
    mandate = words(inner(page, "tr", "data-mandate", "broker-anna/biomass"))
    assert mandate == "broker-anna Biomassa vanaf 4 januari 2016, zonder einde geldt"
    assert words(inner(page, "tr", "data-role", "broker-bas/broker")).startswith(
        "broker-bas transitiemakelaar vanaf 4 januari 2016"
    )
    assert "auditor" in words(inner(page, "tr", "data-role", "audrey/auditor"))
    assert "programmamanager" in words(inner(page, "tr", "data-role", "board-secretariat/manager"))
    streams = words(inner(page, "tr", "data-stream", "construction"))
    assert streams == "Bouwmaterialen construction Bouwhout construction-timber"
    figures = words(inner(page, "tr", "data-figure", "consortia_formed"))
    assert figures.startswith("gevormde consortia (niet stopgezet)")
    assert figures.endswith("vastgelegde besluiten")


def test_every_word_is_translated_or_record_data(api: Api) -> None:
    logged_in(api, "board-secretariat")  # a manager: the page holds the forms too
    csrf = csrf_of(api.client.get("/audit").text)
    api.client.post("/audit/verify", data={"csrf_token": csrf})
    for path in ("/pipeline", PROGRAMME, f"{PROGRAMME}/roadmap", "/audit"):
        assert untranslated(api.client.get(f"{path}?lang=qps").text) == [], path


# -- programme decisions through the forms --------------------------------------------------


def decide(api: Api, command: str, fields: dict[str, str]) -> Any:
    csrf = csrf_of(api.client.get(PROGRAMME).text)
    return api.client.post(
        f"{PROGRAMME}/commands/{command}",
        data={**fields, "csrf_token": csrf},
        follow_redirects=False,
    )


def test_a_manager_sees_the_forms_the_record_authorises(api: Api) -> None:
    logged_in(api, "board-secretariat")
    page = api.client.get(PROGRAMME).text
    shown = set(re.findall(r'<form [^>]*data-command="([^"]+)"', page))
    assert {
        "record-phase-change",
        "set-target",
        "record-target-measurement",
        "register-stream",
        "grant-mandate",
        "revoke-mandate",
        "grant-role",
        "revoke-role",
    } <= shown
    form = inner(page, "form", "data-command", "record-target-measurement")
    assert 'name="programme_id"' not in form, "the page fills in its programme"
    assert "<select" in form
    assert "Import van grondstoffen" in form  # the targets by name
    assert "Meting van een doelstelling vastleggen" in words(
        inner(page, "details", "id", "step-record-target-measurement")
    )


@pytest.mark.parametrize("user", ["broker-bas", "audrey"])
def test_no_programme_form_for_a_broker_or_an_auditor(api: Api, user: str) -> None:
    logged_in(api, user)
    page = api.client.get(PROGRAMME).text
    assert "data-command" not in page
    before = event_count(api.home)
    answer = decide(api, "grant-mandate", {"broker": user, "streams": "all", "reason": "me"})
    assert answer.status_code == 403
    assert event_count(api.home) == before


def test_a_measurement_and_a_mandate_through_the_forms_show_on_the_next_page(api: Api) -> None:
    logged_in(api, "board-secretariat")
    answer = decide(
        api,
        "record-target-measurement",
        {"key": "raw-material-imports", "value": "-6.5", "source": "monitor 2020"}
        | {"reason": "the 2020 material-flow monitor", "effective": ""},
    )
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"{PROGRAMME}?done=record-target-measurement")
    answer = decide(
        api,
        "grant-mandate",
        {"broker": "broker-anna", "streams": "textiles\nconstruction", "reason": "cover"},
    )
    assert answer.status_code == 303
    page = api.client.get(f"{PROGRAMME}?done=grant-mandate&lang=nl").text
    assert words(inner(page, "p", "data-done", "grant-mandate")) == "Mandaat verlenen"
    row = inner(page, "tr", "data-target", "raw-material-imports")
    assert cell(row, "current") == ("-6.5", NL.number(-6.5, 2))
    assert "monitor 2020" in words(row)
    today = NL.day(today_in_programme_tz())
    for stream, word in (("textiles", "Niet meer draagbaar textiel"), ("construction", "Bouw")):
        mandate = words(inner(page, "tr", "data-mandate", f"broker-anna/{stream}"))
        assert mandate.startswith(f"broker-anna {word}")
        assert f"vanaf {today}, zonder einde geldt" in mandate


def test_a_refused_decision_names_why_and_keeps_what_was_typed(api: Api) -> None:
    logged_in(api, "board-secretariat")
    before = event_count(api.home)
    answer = decide(
        api, "grant-mandate", {"broker": "broker-anna", "streams": "nowhere", "reason": "typo"}
    )
    assert answer.status_code == 404
    assert event_count(api.home) == before
    step = inner(answer.text, "details", "id", "step-grant-mandate")
    alert = re.search(r'<div [^>]*role="alert"[^>]*>(.*?)</div>\s*</div>', step, re.S)
    assert alert is not None
    assert "nowhere" in words(alert.group(1))
    assert re.search(r'<details [^>]*id="step-grant-mandate"[^>]*\bopen\b', answer.text)
    assert ">typo</textarea>" in step
    assert 'id="step-grant-mandate"' in answer.text


# -- the roadmap and the audit page ---------------------------------------------------------


def verified(api: Api) -> tuple[str, str, str]:
    """An auditor verifies on the audit page: the verdict, its box's words, the Dutch page."""
    logged_in(api, "audrey")
    csrf = csrf_of(api.client.get("/audit").text)
    api.client.post("/audit/verify", data={"csrf_token": csrf})
    page = api.client.get("/audit?lang=nl").text
    result = re.search(
        r'id="verify-result" data-verdict="([^"]+)"[^>]*>(.*?)</div>\s*</div>', page, re.S
    )
    assert result is not None
    return result.group(1), result.group(2), page


def test_the_audit_verdict_in_words(api: Api) -> None:
    verdict, box, page = verified(api)
    assert verdict == "unsealed"  # the scenario was never sealed
    assert words(box).startswith("Niet verzegeld")
    assert "gebeurtenissen in" in words(box)
    english = api.client.get("/audit?lang=en").text
    assert words(inner(english, "h3", "class", "ams-heading ams-heading--4")) == "Unsealed"
    assert "niet buiten de gegevensmap verankerd" in words(page)


def test_a_rolled_back_record_on_the_audit_page(api: Api) -> None:
    """An anchor, signed with the installation's key, of more seals than the data folder
    still holds (newer seal files deleted): the page says the record was rolled back."""
    from datetime import UTC, datetime

    from adapters.audit import merkle
    from adapters.audit.anchoring import Anchor, keep, origin
    from adapters.audit.keys import signing_key
    from adapters.audit.notes import Checkpoint, sign_note

    settings = Settings(home=api.home)
    name = origin(settings)
    checkpoint = Checkpoint(
        name, 3, merkle.root([merkle.leaf_hash(b"seal %d" % i) for i in range(3)])
    )
    note = sign_note(checkpoint.text(), name, signing_key(api.home))
    keep(settings, Anchor(note, None, datetime.now(tz=UTC).isoformat()))
    verdict, box, page = verified(api)
    assert verdict == "rolled-back"
    assert words(box).startswith("Teruggezet")
    problems = words(inner(page, "ul", "id", "verify-problems"))
    assert problems.startswith("teruggezet: the sealed record:"), problems
    assert "attested 3 seals" in problems


# -- in a browser -----------------------------------------------------------------------------


def test_a_manager_takes_two_programme_decisions_in_a_browser(page: Any, live_server: Live) -> None:
    base = opened(page, live_server, "board-secretariat", "/pipeline")
    screenshot(page, "pipeline-nl")
    page.goto(f"{base}{PROGRAMME}")
    assert page.locator("h1").inner_text().startswith("Programma")

    decide_in_browser(
        page,
        "record-target-measurement",
        {
            "key": "raw-material-imports",
            "value": "-7",
            "source": "material-flow monitor 2021",
            "reason": "the 2021 monitor",
        },
    )
    assert "Meting van een doelstelling vastleggen" in page.locator("#recorded").inner_text()
    row = page.locator("tr[data-target='raw-material-imports']")
    assert row.locator("td.current").inner_text().strip() == NL.number(-7)
    assert "material-flow monitor 2021" in row.inner_text()

    decide_in_browser(
        page,
        "grant-mandate",
        {
            "broker": "broker-bas",
            "streams": "biomass",
            "reason": "covers biomass while Anna is away",
        },
    )
    assert "Mandaat verlenen" in page.locator("#recorded").inner_text()
    mandate = page.locator("tr[data-mandate='broker-bas/biomass']")
    assert mandate.is_visible()
    assert "Biomassa" in mandate.inner_text()
    assert NL.day(today_in_programme_tz()) in mandate.inner_text()
    screenshot(page, "programme-after-decisions")
    page.goto(f"{base}{PROGRAMME}/roadmap")
    screenshot(page, "roadmap-nl")


@pytest.mark.parametrize(
    ("table", "header"),
    [  # the page's language, Dutch: the first heading of each table
        ("phases", "fase"),
        ("mandates", "transitiemakelaar"),
        ("roles", "identiteit"),
        ("streams", "stroom"),
        ("figures", "kengetal"),
    ],
)
def test_every_table_of_the_programme_page_downloads(api: Api, table: str, header: str) -> None:
    logged_in(api, "audrey")
    page = api.client.get(PROGRAMME).text
    for export_format in ("csv", "xlsx"):
        assert f'href="{PROGRAMME}?table={table}&amp;format={export_format}"' in page
    answer = api.client.get(f"{PROGRAMME}?table={table}&format=csv")
    assert answer.status_code == 200
    lines = answer.text.lstrip("\ufeff").splitlines()
    assert lines[0].split(",")[0].split(";")[0].strip('"') == header
    assert len(lines) > 1, "the scenario fills every table"


def test_a_programme_form_without_the_sessions_token_records_nothing(api: Api) -> None:
    logged_in(api, "board-secretariat")
    before = event_count(api.home)
    answer = api.client.post(
        f"{PROGRAMME}/commands/grant-mandate",
        data={"broker": "broker-anna", "streams": "textiles", "reason": "no token"},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert event_count(api.home) == before
