"""The pages' forms carry and check a CSRF token; the session cookie is HttpOnly,
SameSite=Strict, and Secure when served over https. The API takes no cookie at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.api.app import create_app
from adapters.settings import Settings
from tests.security.conftest import Api, Endpoint, csrf_of, endpoints, event_count, log_in

LOGIN = Endpoint("POST", "/login")
FORM = {"reason": "waiting for the permit"}


def form_posts(api: Api) -> list[Endpoint]:
    posts = [e for e in endpoints(api.client.app) if not e.is_api and e.writes]  # type: ignore[arg-type]
    return sorted(set(posts) - {LOGIN}, key=lambda e: e.template)


@pytest.mark.parametrize(
    "submitted",
    [None, "", "forged-token", "the token of another session"],
    ids=["missing", "empty", "forged", "another session's"],
)
def test_every_form_post_without_the_sessions_token_is_refused(
    api: Api, submitted: str | None
) -> None:
    log_in(api.client, api.tokens["broker-bas"])
    if submitted == "the token of another session":
        other = TestClient(api.client.app)  # its own cookie jar: another browser
        submitted = csrf_of(other.get("/login").text)
    before = event_count(api.home)
    posts = form_posts(api)
    assert {e.template for e in posts} >= {"/logout", "/audit/verify"}
    for endpoint in posts:
        data = FORM if submitted is None else {**FORM, "csrf_token": submitted}
        response = api.client.post(endpoint.path, data=data, follow_redirects=False)
        assert response.status_code == 403, f"{endpoint.template}: {response.status_code}"
        assert event_count(api.home) == before
    assert api.client.get("/pipeline", follow_redirects=False).status_code == 200, (
        "a logout without the token left the session as it was"
    )


def test_the_same_form_with_the_sessions_token_is_accepted(api: Api) -> None:
    log_in(api.client, api.tokens["broker-bas"])
    csrf = csrf_of(api.client.get("/initiatives/timber-reuse").text)
    before = event_count(api.home)
    response = api.client.post(
        "/initiatives/timber-reuse/commands/stall",
        data={**FORM, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert event_count(api.home) == before + 1


def test_logging_in_needs_the_login_forms_token(api: Api) -> None:
    response = api.client.post(
        "/login", data={"token": api.tokens["broker-bas"]}, follow_redirects=False
    )
    assert response.status_code == 403
    assert api.client.get("/pipeline", follow_redirects=False).status_code == 303


def test_the_session_cookie_is_http_only_and_same_site_strict(api: Api) -> None:
    csrf = csrf_of(api.client.get("/login").text)
    response = api.client.post(
        "/login",
        data={"token": api.tokens["audrey"], "csrf_token": csrf},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("kringloop_session=")
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "secure" not in cookie, "on plain http a Secure cookie would never come back"


@pytest.fixture
def over_https(loaded_home: tuple[Path, dict[str, str]]) -> Iterator[Api]:
    home, tokens = loaded_home
    app = create_app(Settings(home=home))
    with TestClient(app, base_url="https://kringloop.example") as client:
        yield Api(client, tokens, home)


def test_the_session_cookie_is_secure_over_https(over_https: Api) -> None:
    client = over_https.client
    csrf = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"token": over_https.tokens["audrey"], "csrf_token": csrf},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"].lower()
    assert "secure" in cookie.split("; ")
    assert "samesite=strict" in cookie
    assert client.get("/pipeline", follow_redirects=False).status_code == 200


def test_the_api_ignores_the_session_cookie(api: Api) -> None:
    """The API authenticates by bearer header only, so a forged cross-site request that
    carries the browser's cookie gets nowhere: it needs no CSRF token."""
    log_in(api.client, api.tokens["board-secretariat"])
    assert api.client.get("/pipeline", follow_redirects=False).status_code == 200
    before = event_count(api.home)
    response = api.client.post("/api/commands/stall", json=FORM)
    assert response.status_code == 401
    assert api.client.get("/api/pipeline").status_code == 401
    assert event_count(api.home) == before
