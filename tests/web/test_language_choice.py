"""Which language a page speaks: Dutch by default, the browser's Accept-Language when it names
English, and a person's choice on the switch (?lang=) above both, remembered in a cookie and,
for a logged-in user, on the server so it follows them to another browser."""

from __future__ import annotations

from fastapi.testclient import TestClient

from adapters.api.web.pages.common import LANGUAGE_COOKIE
from tests.api.conftest import Api
from tests.security.conftest import log_in


def html_lang(client: TestClient, path: str, **headers: str) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    start = response.text.index('<html lang="') + len('<html lang="')
    lang = response.text[start : start + 2]
    assert response.headers["content-language"] == lang
    return lang


def test_dutch_unless_the_browser_prefers_english(api: Api) -> None:
    assert html_lang(api.client, "/login") == "nl"
    assert html_lang(api.client, "/login", **{"Accept-Language": "en-GB,en;q=0.9"}) == "en"
    assert html_lang(api.client, "/login", **{"Accept-Language": "de, fr;q=0.8"}) == "nl"
    assert html_lang(api.client, "/login", **{"Accept-Language": "de, en;q=0.5, nl;q=0.6"}) == "nl"


def test_the_switch_is_remembered_in_the_browser_above_its_accept_language(api: Api) -> None:
    english = {"Accept-Language": "en"}
    assert html_lang(api.client, "/login?lang=nl", **english) == "nl"
    assert api.client.cookies.get(LANGUAGE_COOKIE) == "nl"
    assert html_lang(api.client, "/login", **english) == "nl"  # the choice, not the header


def test_a_users_choice_follows_them_to_another_browser(api: Api) -> None:
    log_in(api.client, api.tokens["broker-bas"])
    assert html_lang(api.client, "/pipeline?lang=en") == "en"
    other = TestClient(api.client.app)  # another browser: no cookies at all
    log_in(other, api.tokens["broker-bas"])
    assert other.cookies.get(LANGUAGE_COOKIE) is None
    assert html_lang(other, "/pipeline") == "en"  # remembered for the user on the server
    assert html_lang(other, "/pipeline?lang=nl") == "nl"
    assert html_lang(api.client, "/login", **{"Accept-Language": "en"}) == "en"  # own cookie
    colleague = TestClient(api.client.app)
    log_in(colleague, api.tokens["audrey"])
    assert html_lang(colleague, "/pipeline") == "nl"  # nobody else's choice


def test_the_pseudo_locale_is_never_remembered(api: Api) -> None:
    response = api.client.get("/login?lang=qps")
    assert "⟦" in response.text
    assert response.headers["content-language"] == "nl"
    assert api.client.cookies.get(LANGUAGE_COOKIE) is None
