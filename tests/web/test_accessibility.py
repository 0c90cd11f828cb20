"""WCAG 2.1 A and AA, as axe-core checks them in Chromium: every page (tests/web/every_page.py),
in Dutch and in English, for a stranger (login, the statement) and for a logged-in broker,
programme manager and auditor; zero violations. Screenshots of every page in Dutch land in
tests/web/artifacts/ (<page>-<role>.png)."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.api.web.pages.statement import STATEMENT
from adapters.i18n import LANGUAGES, translator
from tests.api.conftest import Api
from tests.web.conftest import screenshot
from tests.web.every_page import PUBLIC, axe_violations, pages_of, unreached, with_lang

Live = tuple[str, dict[str, str]]
ROLES = {"broker": "broker-bas", "manager": "board-secretariat", "auditor": "audrey"}


def log_in(page: Any, base: str, token: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#token", token)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/pipeline*")


def fetcher(context: Any, base: str) -> Any:
    """Fetch a page with the browser context's session (no rendering: finding the pages)."""

    from playwright.sync_api import Error

    def fetch(path: str) -> tuple[str, str]:
        try:
            response = context.request.get(base + path)
        except Error:  # a page that breaks the connection is reported when it is checked
            return path, ""
        return response.url.removeprefix(base).split("?")[0], response.text()

    return fetch


@pytest.mark.slow
def test_every_page_has_no_axe_violations(browser: Any, live_server: Live) -> None:
    base, tokens = live_server
    problems: list[str] = []
    visits: list[tuple[str, str | None]] = [("stranger", None), *ROLES.items()]
    for role, user in visits:
        context = browser.new_context(viewport={"width": 1366, "height": 860})
        page = context.new_page()
        if user is None:
            pages = PUBLIC
        else:
            log_in(page, base, tokens[user])
            pages = pages_of(fetcher(context, base))
            problems.extend(
                f"{role}: no link leads to a page of kind {k}" for k in unreached(pages)
            )
        for name, path in pages:
            for lang in LANGUAGES:
                response = page.goto(base + with_lang(path, lang))
                where = f"{path} ({lang}, {role})"
                if response is None or response.status >= 400:
                    problems.append(f"{where}: HTTP {response.status if response else '-'}")
                    continue
                problems.extend(f"{where}: {found}" for found in axe_violations(page))
                if lang == "nl":
                    screenshot(page, f"{name}-{role}")
        context.close()
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def test_the_statement_is_public_in_dutch_and_english(api: Api) -> None:
    """The accessibility statement opens without logging in, Dutch first, with the model
    statement's parts: status, method, enforcement procedure, date."""
    dutch = api.client.get("/toegankelijkheid", follow_redirects=False)
    assert dutch.status_code == 200
    for part in (
        '<h1 class="ams-heading ams-heading--1">Toegankelijkheidsverklaring</h1>',
        "B: voldoet gedeeltelijk",
        "Besluit digitale toegankelijkheid overheid",
        "axe-core",
        "Handhavingsprocedure",
        "Nationale ombudsman",
        f"opgesteld op {translator('nl').day(STATEMENT.drawn_up)}",
        f'href="mailto:{STATEMENT.contact}"',
    ):
        assert part in dutch.text, part
    english = api.client.get("/toegankelijkheid?lang=en").text
    assert "B: partially compliant" in english
    assert "Enforcement procedure" in english
