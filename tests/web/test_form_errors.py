"""A refused form says what is wrong with each field in the page's language, under that
field and linked from the form's summary, keeps what was typed, reads a Dutch figure the
Dutch way, and sends the browser back to its summary."""

from __future__ import annotations

import re
from typing import Any

import pytest

from adapters.api.web.forms import figure, form_fields, parse_form
from domain.commands.catalogue import CATALOGUE
from tests.api.conftest import Api
from tests.web.conftest import screenshot
from tests.web.procured import Live, opened
from tests.web.test_pages import csrf_of, logged_in

TIMBER = "/initiatives/timber-reuse"  # broker-bas's, fulfilling its preconditions
COMMAND = "register-precondition"


def start_tag(markup: str, element_id: str) -> str:
    found = re.search(rf'<[a-z]+\b[^>]*\bid="{re.escape(element_id)}"[^>]*>', markup)
    assert found is not None, f"no element #{element_id}"
    return found.group(0)


def text_of(markup: str, element_id: str) -> str:
    found = re.search(rf'<p\b[^>]*\bid="{re.escape(element_id)}"[^>]*>(.*?)</p>', markup, re.S)
    assert found is not None, f"no <p id={element_id}>"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip()


def form_of(page: str, command: str) -> str:
    return page.split(f'data-command="{command}"')[1].split("</form>")[0]


def summary_of(form: str, command: str) -> str:
    return form.split(f'id="{command}-errors"')[1].split('name="csrf_token"')[0]


def described_by(tag: str) -> list[str]:
    found = re.search(r'aria-describedby="([^"]+)"', tag)
    return found.group(1).split() if found else []


def post(api: Api, command: str, typed: dict[str, str], lang: str | None = None) -> Any:
    csrf = csrf_of(api.client.get(TIMBER).text)
    headers = {"Accept-Language": lang} if lang else {}
    return api.client.post(
        f"{TIMBER}/commands/{command}",
        data={**typed, "csrf_token": csrf},
        headers=headers,
        follow_redirects=False,
    )


def test_each_field_has_its_own_dutch_message_linked_from_the_summary(api: Api) -> None:
    logged_in(api, "broker-bas")
    typed = {
        "precondition": "sawmill-permit",
        "kind": "permit",
        "responsible": "",
        "due": "31-02-2027",
        "target_value": "12,5",
        "target_unit": "t/jr",
        "reason": "vergunning nodig voor de zagerij",
    }
    response = post(api, COMMAND, typed)
    assert response.status_code == 422
    page = response.text
    form = form_of(page, COMMAND)
    summary = summary_of(form, COMMAND)
    assert 'tabindex="-1"' in start_tag(page, f"{COMMAND}-errors")
    expected = {
        "responsible": "Verantwoordelijk: vul dit veld in.",
        "due": "Uiterlijk: vul een datum in, bijvoorbeeld 31-12-2027.",
    }
    for name, message in expected.items():
        fid = f"{COMMAND}-{name}"
        tag = start_tag(form, fid)
        assert 'aria-invalid="true"' in tag, name
        assert f"{fid}-error" in described_by(tag)
        assert 'class="ams-error-message"' in start_tag(form, f"{fid}-error")
        assert text_of(form, f"{fid}-error") == f"Invoerfout: {message}"
        link = re.search(rf'<a [^>]*href="#{fid}"[^>]*>([^<]*)</a>', summary)
        assert link is not None, f"the summary does not link to #{fid}"
        assert link.group(1) == message
    assert "Field required" not in page
    assert "is not a date" not in page
    assert summary.count("<a ") == 2  # one message a field, nothing for the valid ones
    target = start_tag(form, f"{COMMAND}-target_value")  # "12,5" is a Dutch figure
    assert 'aria-invalid="true"' not in target
    assert 'value="12,5"' in target
    assert 'inputmode="decimal"' in target
    assert 'type="text"' in target
    assert 'value="31-02-2027"' in start_tag(form, f"{COMMAND}-due")
    assert 'value="sawmill-permit"' in start_tag(form, f"{COMMAND}-precondition")
    assert ">vergunning nodig voor de zagerij</textarea>" in form

    # the browser comes back at the summary: the action's fragment is its id, in an open step
    action = re.search(rf'<form [^>]*action="([^"]+)"[^>]*data-command="{COMMAND}"', page)
    assert action is not None
    assert action.group(1) == f"{TIMBER}/commands/{COMMAND}#{COMMAND}-errors"
    assert f'id="step-{COMMAND}" open' in page

    # with the rest filled in, "12,5" is recorded as 12.5 and "1-10-2018" as that day
    done = post(api, COMMAND, {**typed, "responsible": "Omgevingsdienst", "due": "1-10-2018"})
    assert done.status_code == 303, done.text
    at = "/as-of?at=2099-01-01&by=recorded"
    state = api.client.get(f"/api/audit{TIMBER}{at}", headers=api.as_("broker-bas")).json()
    recorded = state["preconditions"]["sawmill-permit"]
    assert recorded["target_value"] == 12.5
    assert recorded["due"] == "2018-10-01"


@pytest.mark.parametrize(
    ("typed", "lang", "message"),
    [
        ("12,5,0", None, "Doelwaarde: vul een getal in, bijvoorbeeld 12,5."),
        ("twaalf", None, "Doelwaarde: vul een getal in, bijvoorbeeld 12,5."),
        ("12,5", "en", "Target value: enter a number, for example 12.5."),  # not 125
        ("-3", None, "Doelwaarde: vul een getal van minstens 0 in."),
    ],
)
def test_a_figure_that_is_none_is_refused_never_changed(
    api: Api, typed: str, lang: str | None, message: str
) -> None:
    logged_in(api, "broker-bas")
    fields = {
        "precondition": "sawmill-permit",
        "kind": "permit",
        "responsible": "Omgevingsdienst",
        "target_value": typed,
        "target_unit": "t/jr",
        "reason": "vergunning nodig",
    }
    response = post(api, COMMAND, fields, lang="en" if lang else None)
    assert response.status_code == 422
    form = form_of(response.text, COMMAND)
    fid = f"{COMMAND}-target_value"
    assert 'aria-invalid="true"' in start_tag(form, fid)
    assert text_of(form, f"{fid}-error").endswith(message)
    assert f'value="{typed}"' in start_tag(form, fid)


def test_a_rule_between_fields_is_shown_in_the_summary(api: Api) -> None:
    logged_in(api, "broker-bas")
    fields = {
        "precondition": "sawmill-permit",
        "kind": "permit",
        "responsible": "Omgevingsdienst",
        "target_value": "5",  # without its unit
        "reason": "vergunning nodig",
    }
    response = post(api, COMMAND, fields)
    assert response.status_code == 422
    form = form_of(response.text, COMMAND)
    assert "target_value and target_unit together" in summary_of(form, COMMAND)
    assert 'value="5"' in start_tag(form, f"{COMMAND}-target_value")


def test_figures_and_days_are_read_the_page_language_way() -> None:
    assert figure("12,5", "nl") == "12.5"
    assert figure("1.500.000,50", "nl") == "1500000.50"
    assert figure("1,500,000.50", "en") == "1500000.50"
    assert figure("12,5", "en") == "12,5"  # left for the model to refuse
    assert figure("12.5", "nl") == "12.5"
    cls = CATALOGUE[COMMAND]
    kinds = {f.name: f.kind for f in form_fields(cls)}
    assert kinds["target_value"] == "number"
    assert kinds["due"] == "date"
    parsed = parse_form(cls, {"target_value": "12,5", "due": "1-2-2027"}, "nl")
    assert parsed["target_value"] == "12.5"
    assert parsed["due"] == "2027-02-01"
    assert parse_form(cls, {"due": "2027-02-01"}, "en")["due"] == "2027-02-01"
    meeting = {f.name: f.kind for f in form_fields(CATALOGUE["hold-meeting"])}
    assert meeting["meeting"] == "integer"


def test_a_refused_form_brings_the_browser_to_its_summary(page: Any, live_server: Live) -> None:
    opened(page, live_server, "broker-bas", TIMBER)
    page.get_by_text("Randvoorwaarde registreren", exact=True).first.click()  # its summary
    form = page.locator(f"form[data-command='{COMMAND}']")
    form.get_by_label("Reden").fill("de zagerij heeft een vergunning nodig")
    form.get_by_label("Randvoorwaarde", exact=False).first.fill("sawmill-permit")
    form.get_by_label("Doelwaarde").fill("12,5")
    form.get_by_label("Uiterlijk").fill("2018-10-01")
    form.get_by_role("button", name="Randvoorwaarde registreren").click()
    page.wait_for_url(re.compile(rf".*#{COMMAND}-errors$"))
    summary = page.locator(f"#{COMMAND}-errors")
    summary.wait_for()
    box = summary.bounding_box()
    viewport = page.viewport_size
    assert box is not None
    assert viewport is not None
    assert 0 <= box["y"] < viewport["height"]  # scrolled to, not 6,000 px down
    assert page.get_by_label("Doelwaarde").input_value() == "12,5"
    assert "Verantwoordelijk: vul dit veld in." in summary.inner_text()
    screenshot(page, "form-errors-summary")


def test_a_precondition_and_a_decision_are_chosen_from_the_record(api: Api) -> None:
    logged_in(api, "broker-bas")
    page = api.client.get(TIMBER).text
    for command in ("fulfil-precondition", "waive-precondition", "fail-precondition"):
        form = form_of(page, command)
        select = form.split(f'id="{command}-precondition"')[1].split("</select>")[0]
        options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)
        assert options == [
            ("", "(kies)"),  # nothing chosen beforehand
            ("demolition-volume", "demolition-volume: Demolition contracts deliver timber"),
        ]  # the open one only: the failed precondition is not offered again
    form = form_of(page, "correct-decision")
    select = form.split('id="correct-decision-corrects"')[1].split("</select>")[0]
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)
    assert options[0] == ("", "(kies)")
    assert options[1] == (
        "first-steps-089",
        "1 maart 2018, Randvoorwaarde registreren (first-steps-089)",
    )  # the newest decision first
    assert options[-1][1].endswith(", Initiatief voorstellen (" + options[-1][0] + ")")
    assert not any(value == "" for value, _ in options[1:])

    done = post(
        api,
        "fulfil-precondition",
        {"precondition": "demolition-volume", "reason": "getekend", "evidence": "contract.pdf"},
    )
    assert done.status_code == 303, done.text
    page = api.client.get(TIMBER).text
    assert not re.search(r'<form [^>]*data-command="fulfil-precondition"', page)  # none open
    assert '<li class="ams-unordered-list__item" data-command="fulfil-precondition">' in page
