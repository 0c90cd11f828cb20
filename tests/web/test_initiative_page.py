"""The initiative page in Dutch (English on request): its state, the decision timeline, what
the initiative gathered (options with their R-level and expert, the consultation's answers,
the consortium's roles and shares, impact per year, scale-up assessments, the handover note),
and its next steps as forms whose refusals name the field and keep what was typed."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from adapters.api.web.forms import LABELS, TERMS, form_fields
from adapters.i18n import glossary, translator
from domain.commands.catalogue import CATALOGUE
from domain.values import Stage
from tests.api.conftest import Api
from tests.web.conftest import screenshot
from tests.web.procured import Live, opened
from tests.web.test_pages import csrf_of, logged_in
from tests.web.test_pseudo_locale import untranslated

GRASS = "/initiatives/roadside-grass-insulation"  # scaled up: every part of the page filled
TIMBER = "/initiatives/timber-reuse"  # broker-bas's, fulfilling its preconditions


def words(markup: str) -> str:
    """The text of some markup, as a person reads it."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", markup, flags=re.S)
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text))).strip()
    return re.sub(r" ([:;,.])", r"\1", text)


def element(markup: str, tag: str, attribute: str, value: str) -> str:
    """The text of the first ``<tag attribute="value">`` (not nested in one of its kind)."""
    found = re.search(
        rf'<{tag}\b[^>]*\b{attribute}="{re.escape(value)}"[^>]*>(.*?)</{tag}>', markup, re.S
    )
    assert found is not None, f'no <{tag} {attribute}="{value}">'
    return words(found.group(1))


def start_tag(markup: str, element_id: str) -> str:
    found = re.search(rf'<[a-z]+\b[^>]*\bid="{re.escape(element_id)}"[^>]*>', markup)
    assert found is not None, f"no element #{element_id}"
    return found.group(0)


def alert_of(form: str, command: str) -> str:
    """The markup of the alert at the top of a command's form."""
    return form.split(f'id="{command}-errors"')[1].split('name="csrf_token"')[0]


def test_the_page_in_dutch_shows_what_the_initiative_gathered(api: Api) -> None:
    logged_in(api, "broker-anna")
    response = api.client.get(GRASS)
    page = response.text
    assert response.headers["Content-Language"] == "nl"
    state = element(page, "section", "class", "state")
    assert "Fase opgeschaald sinds 30 juni 2020" in state
    assert "Status actief" in state
    assert "Grondstofstroom Bermgras" in state
    assert "Transitiemakelaar broker-anna" in state
    assert "Trekkende ondernemer GrassFibre BV" in state
    assert "gegarandeerd volume" in state
    assert "vervuld op 1 maart 2017" in state
    timeline = element(page, "ol", "id", "timeline")
    assert timeline.startswith("1 februari 2016 Initiatief voorstellen door broker-anna")
    assert "10 april 2017 Consortium vormen" in timeline
    assert 'data-command="' not in page.split('id="timeline"')[1].split("</ol>")[0]

    option = element(page, "tr", "data-option", "fibre-insulation")
    assert option == (
        "fibre-insulation Fibres become insulation mats, juice a road de-icer R8 Recyclen TNO "
        "gekozen"
    )
    assert "R9 Energie terugwinnen Wageningen UR niet gekozen" in words(page)
    respondent = element(page, "tr", "data-respondent", "GrassFibre BV")
    assert respondent.startswith("GrassFibre BV gekozen als trekkende ondernemer ja ja")
    assert "50,000 t/yr of cuttings from road managers" in respondent
    assert element(page, "tr", "data-member", "GrassFibre BV").endswith(
        "trekkende ondernemer 20 % 20 %"
    )
    assert "inzamelaar 20 % 20 %" in element(page, "tr", "data-member", "Rijkswaterstaat")
    assert "Financieel arrangement: joint venture" in words(page)
    impact = element(page, "section", "id", "impact")
    assert "Jaar nieuwe banen (fte) gestarte bedrijven verwerkte ton per jaar" in impact
    assert element(page, "tr", "data-year", "2018") == "2018 25 1 50.000 12.000"
    assessments = element(page, "section", "id", "assessments")
    assert "1 februari 2019 ja nee operating >= 24 months" in assessments
    assert "tonnes_per_year: 50.000" in assessments
    assert element(page, "section", "id", "handover") == (
        "Overdrachtsnotitie Broker keeps watching quarterly; contact the lead for escalations"
    )


def test_the_page_in_english_on_request(api: Api) -> None:
    logged_in(api, "broker-anna")
    response = api.client.get(f"{GRASS}?lang=en")
    page = response.text
    assert response.headers["Content-Language"] == "en"
    assert "Stage scaled up since 30 June 2020" in element(page, "section", "class", "state")
    assert element(page, "ol", "id", "timeline").startswith(
        "1 February 2016 Propose an initiative by broker-anna"
    )
    assert element(page, "tr", "data-option", "fibre-insulation").endswith("R8 Recycle TNO chosen")
    assert element(page, "tr", "data-member", "GrassFibre BV").endswith("lead entrepreneur 20% 20%")
    assert element(page, "tr", "data-year", "2018") == "2018 25 1 50,000 12,000"
    assert element(page, "section", "id", "handover").startswith("Handover note Broker keeps")
    diaper = api.client.get("/initiatives/diaper-recycling?lang=en").text
    assert "33.3%" in element(diaper, "tr", "data-member", "AEB")


@pytest.mark.parametrize("path", [GRASS, TIMBER, f"{TIMBER}?as_of=2017-06-01"])
def test_every_word_on_the_page_is_translated_or_record_data(api: Api, path: str) -> None:
    logged_in(api, "broker-bas")
    separator = "&" if "?" in path else "?"
    assert untranslated(api.client.get(f"{path}{separator}lang=qps").text) == []


def test_a_step_not_possible_now_says_why_in_the_page_language(api: Api) -> None:
    logged_in(api, "broker-bas")
    page = api.client.get(TIMBER).text
    why = element(page, "li", "data-command", "form-consortium")
    assert why.startswith("Consortium vormen: ")
    aggregate = api.client.app.state.backend.engine.initiative("timber-reuse")
    assert why == "Consortium vormen: " + translator("nl").message(
        aggregate.refusal("form_consortium")
    )


def test_a_form_speaks_dutch(api: Api) -> None:
    logged_in(api, "broker-bas")
    page = api.client.get(TIMBER).text
    form = page.split('data-command="register-precondition"')[1].split("</form>")[0]
    reason = form.split('for="register-precondition-reason">')[1].split("</label>")[0]
    assert words(reason) == "Reden * (verplicht)"  # required, in words and with *
    assert '<option value="permit">vergunning</option>' in form
    assert words(form).endswith("Randvoorwaarde registreren")  # the button: the step's name


def test_a_refused_form_keeps_the_typed_values_and_names_the_field(api: Api) -> None:
    logged_in(api, "broker-bas")
    csrf = csrf_of(api.client.get(TIMBER).text)
    typed = {
        "precondition": "Geen Geldige Naam!",
        "kind": "permit",
        "responsible": "Omgevingsdienst",
        "reason": "vergunning nodig voor de zagerij",
        "evidence": "brief-2018.pdf\nnotulen.pdf",
        "target_value": "12",
    }
    response = api.client.post(
        f"{TIMBER}/commands/register-precondition", data={**typed, "csrf_token": csrf}
    )
    assert response.status_code == 422
    page = response.text
    form = page.split('data-command="register-precondition"')[1].split("</form>")[0]
    alert = start_tag(form, "register-precondition-errors")
    assert 'role="alert"' in alert
    assert 'href="#register-precondition-precondition"' in alert_of(form, "register-precondition")
    field = start_tag(form, "register-precondition-precondition")
    assert 'aria-invalid="true"' in field
    assert 'value="Geen Geldige Naam!"' in field
    described = re.search(r'aria-describedby="([^"]+)"', field)
    assert described is not None
    assert "register-precondition-precondition-error" in described.group(1).split()
    message = element(form, "p", "id", "register-precondition-precondition-error")
    assert message == (
        "Invoerfout: Randvoorwaarde: gebruik alleen kleine letters, cijfers en streepjes, "
        "hoogstens 63 tekens."
    )
    assert 'value="Omgevingsdienst"' in start_tag(form, "register-precondition-responsible")
    assert 'value="12"' in start_tag(form, "register-precondition-target_value")
    assert '<option value="permit" selected>' in form
    assert ">vergunning nodig voor de zagerij</textarea>" in form
    assert ">brief-2018.pdf\nnotulen.pdf</textarea>" in form
    assert 'aria-invalid="true"' not in start_tag(form, "register-precondition-responsible")
    assert "Geen Geldige Naam" not in words(page.split('id="timeline"')[1].split("</ol>")[0])


def test_a_field_that_holds_no_json_is_named(api: Api) -> None:
    logged_in(api, "broker-anna")
    csrf = csrf_of(api.client.get(GRASS).text)
    response = api.client.post(
        f"{GRASS}/commands/assess-scale-up",
        data={"csrf_token": csrf, "reason": "r", "criteria": "c", "figures": "{tonnes"},
    )
    assert response.status_code == 422
    form = response.text.split('data-command="assess-scale-up"')[1].split("</form>")[0]
    assert 'aria-invalid="true"' in start_tag(form, "assess-scale-up-figures")
    assert "Cijfers: geen geldige JSON" in element(form, "p", "id", "assess-scale-up-figures-error")
    assert ">{tonnes</textarea>" in form


def test_a_refusal_of_the_record_is_shown_atop_its_form(api: Api) -> None:
    logged_in(api, "broker-bas")
    csrf = csrf_of(api.client.get(TIMBER).text)
    response = api.client.post(
        f"{TIMBER}/commands/fulfil-precondition",
        data={"csrf_token": csrf, "precondition": "no-such-thing", "reason": "getekend"},
    )
    assert response.status_code == 404
    form = response.text.split('data-command="fulfil-precondition"')[1].split("</form>")[0]
    assert 'role="alert"' in start_tag(form, "fulfil-precondition-errors")
    assert "no-such-thing" in words(alert_of(form, "fulfil-precondition"))
    field = start_tag(form, "fulfil-precondition-precondition")
    assert '<option value="no-such-thing" selected translate="no">no-such-thing</option>' in form
    assert 'aria-invalid="true"' in field  # the refusal names the precondition
    assert 'href="#fulfil-precondition-precondition"' in alert_of(form, "fulfil-precondition")
    assert 'id="step-fulfil-precondition" open' in response.text


def test_no_new_arrangement_through_the_form(api: Api) -> None:
    logged_in(api, "broker-bas")
    csrf = csrf_of(api.client.get(TIMBER).text)
    response = api.client.post(
        f"{TIMBER}/commands/declare-no-arrangement",
        data={"csrf_token": csrf, "reason": "bestaande contracten volstaan"},
    )
    assert response.status_code == 200
    page = response.text
    assert "Stap vastgelegd: Vastleggen: geen nieuw financieel arrangement nodig" in words(page)
    assert "Financieel arrangement: er is geen nieuw arrangement nodig." in words(page)


def test_every_field_has_a_label_and_every_choice_a_word() -> None:
    for cls in CATALOGUE.values():
        for field in form_fields(cls):
            assert field.name in LABELS, f"{cls.command}.{field.name} has no label"
            if field.kind == "select":
                assert field.term is not None, f"{cls.command}.{field.name}: no glossary kind"
                missing = set(field.options) - set(glossary()[field.term])
                assert not missing, f"{cls.command}.{field.name}: {missing}"
    assert set(TERMS.values()) <= set(glossary())
    fall_back = form_fields(CATALOGUE["fall-back"])
    assert [f.term for f in fall_back if f.name == "to_stage"] == ["stage"]
    assert {s.value for s in Stage} >= set(next(f for f in fall_back if f.term).options)


def test_a_broker_takes_a_step_from_its_dutch_form_in_a_browser(
    page: Any, live_server: Live
) -> None:
    opened(page, live_server, "broker-bas", TIMBER)  # Chromium itself asks for English
    assert page.locator("html").get_attribute("lang") == "nl"
    page.get_by_text("Randvoorwaarde registreren", exact=True).first.click()  # its summary
    form = page.locator("form[data-command='register-precondition']")
    form.get_by_label("Reden").fill("de zagerij heeft een vergunning nodig")
    form.get_by_label("Randvoorwaarde", exact=False).first.fill("sawmill-permit")
    form.get_by_label("Soort").select_option(label="vergunning")
    form.get_by_label("Verantwoordelijk").fill("Omgevingsdienst")
    form.get_by_label("Uiterlijk").fill("2018-10-01")
    form.get_by_label("Gaat in op").fill("2018-04-01")
    form.get_by_role("button", name="Randvoorwaarde registreren").click()
    page.wait_for_url(re.compile(r".*\?done=register-precondition(#.*)?$"))
    assert page.locator(".recorded").inner_text() == "Stap vastgelegd: Randvoorwaarde registreren"
    row = page.locator("tr.pc-open", has_text="sawmill-permit")
    assert "vergunning" in row.inner_text()
    assert "1 oktober 2018" in row.inner_text()
    last = page.locator("#timeline > li").last.inner_text()
    assert "1 april 2018" in last
    assert "Randvoorwaarde registreren" in last
    assert "de zagerij heeft een vergunning nodig" in last
    screenshot(page, "initiative-dutch-form-taken")
