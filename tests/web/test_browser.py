"""Brokers and auditors in a real browser (headless Chromium) against a live server."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import screenshot

Live = tuple[str, dict[str, str]]


def log_in(page: Any, base: str, token: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#token", token)
    page.click("form[action='/login'] button")
    page.wait_for_url(f"{base}/pipeline")


def fulfil_demolition_volume(page: Any) -> None:
    page.click("#step-fulfil-precondition summary")
    form = page.locator("form[data-command='fulfil-precondition']")
    form.locator("[name=precondition]").select_option("demolition-volume")  # the open one
    form.locator("[name=reason]").fill("demolition contracts signed")
    form.locator("[name=evidence]").fill("contracts-2018.pdf")
    form.locator("[name=effective]").fill("2018-08-01")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def test_a_broker_advances_an_initiative_and_sees_the_timeline_grow(
    page: Any, live_server: Live
) -> None:
    base, tokens = live_server
    log_in(page, base, tokens["broker-bas"])
    assert page.locator("a.card[data-initiative='timber-reuse']").is_visible()
    screenshot(page, "pipeline-broker")
    page.goto(f"{base}/initiatives/timber-reuse?lang=nl")  # Dutch, as the switch sets it
    before = page.locator("#timeline > li").count()

    fulfil_demolition_volume(page)

    recorded = "Stap vastgelegd: Randvoorwaarde als vervuld vastleggen"
    assert page.locator(".recorded").inner_text() == recorded
    assert page.locator("#timeline > li").count() == before + 1
    last = page.locator("#timeline > li").last.inner_text()
    assert "1 augustus 2018 Randvoorwaarde als vervuld vastleggen" in last
    screenshot(page, "initiative-after-step")


def test_the_same_step_again_is_refused_with_the_reason(page: Any, live_server: Live) -> None:
    """Sent again from a page opened before the step was taken (a second tab, the back
    button): refused with the reason, nothing recorded; a fresh page no longer offers it."""
    base, tokens = live_server
    log_in(page, base, tokens["broker-bas"])
    page.goto(f"{base}/initiatives/timber-reuse?lang=nl")
    stale = page.context.new_page()
    stale.goto(f"{base}/initiatives/timber-reuse")
    fulfil_demolition_volume(page)
    count = page.locator("#timeline > li").count()
    assert page.locator("form[data-command='fulfil-precondition']").count() == 0
    assert page.locator("ul.not-now li[data-command='fulfil-precondition']").is_visible()

    fulfil_demolition_volume(stale)

    refusal = stale.locator("#refusal")  # the step has no form now: the refusal stands alone
    assert refusal.is_visible()
    assert "demolition-volume" in refusal.inner_text()
    assert stale.locator("#timeline > li").count() == count
    screenshot(stale, "initiative-refused")


def test_an_auditor_sees_no_action_forms(page: Any, live_server: Live) -> None:
    base, tokens = live_server
    log_in(page, base, tokens["audrey"])
    page.goto(f"{base}/initiatives/timber-reuse")
    assert page.locator("#timeline > li").count() > 0
    assert page.locator("form[data-command]").count() == 0
    screenshot(page, "initiative-auditor")
    page.goto(f"{base}/initiatives/timber-reuse?as_of=2017-06-01&lang=nl")
    assert "Stand op 1 juni 2017" in page.content()
    screenshot(page, "initiative-as-of")
    page.goto(f"{base}/audit")
    page.click("form[action='/audit/verify'] button")
    page.wait_for_url(f"{base}/audit")
    verdict = page.locator("#verify-result").get_attribute("data-verdict")
    assert verdict in ("intact", "intact-with-unsealed-tail", "unsealed"), verdict
    screenshot(page, "audit")
    for name, path in [
        ("programme", "/programmes/mra-circular"),
        ("roadmap", "/programmes/mra-circular/roadmap"),
    ]:
        page.goto(base + path)
        assert page.locator("h1").is_visible()
        screenshot(page, name)
