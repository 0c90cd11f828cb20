"""No endpoint answers without authentication, except the few that hold no data: every
route of the app is called without credentials (and with bad ones)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from adapters.accounts.users import revoke_user
from adapters.api.web import STATIC
from tests.security.conftest import Api, Endpoint, csrf_of, endpoints, log_in

OPEN = {
    # liveness for a load balancer: {"status": "ok"}
    Endpoint("GET", "/api/health"),
    # the login form and logging in (CSRF-checked and throttled)
    Endpoint("GET", "/login"),
    Endpoint("POST", "/login"),
    # the accessibility statement, public by law (Besluit digitale toegankelijkheid overheid)
    Endpoint("GET", "/toegankelijkheid"),
    # stylesheets: the static folder holds nothing else but the vendored design system's
    # licence and versions (test below)
    Endpoint("GET", "/static/kringloop.css"),
    # the API's shape, generated from the command catalogue that `kringloop commands --json`
    # prints to anyone: no data from the store (test below)
    Endpoint("GET", "/openapi.json"),
    Endpoint("GET", "/docs"),
    # Swagger UI's files, from the swagger-ui-bundle-v2 package (no CDN), and its set-up
    Endpoint("GET", "/docs/swagger-ui.css"),
    Endpoint("GET", "/docs/swagger-ui-bundle.js"),
    Endpoint("GET", "/docs/set-up.js"),
}
DATA = ["timber-reuse", "broker-bas", "audrey", "GrassFibre", "demolition contracts"]
BAD_CREDENTIALS = {
    "unknown token": {"Authorization": "Bearer kl_not-a-token"},
    "no token after the scheme": {"Authorization": "Bearer "},
    "another scheme": {"Authorization": "Basic YnJva2VyOnNlY3JldA=="},
    "token without a scheme": {"Authorization": "kl_not-a-token"},
}


def call(api: Api, endpoint: Endpoint, headers: dict[str, str] | None = None) -> httpx.Response:
    return api.client.request(
        endpoint.method,
        endpoint.path,
        headers=headers,
        json={"reason": "let me in"} if endpoint.writes and endpoint.is_api else None,
        data=None if endpoint.is_api or not endpoint.writes else {"reason": "let me in"},
        follow_redirects=False,
    )


def assert_refused(api: Api, endpoint: Endpoint, response: httpx.Response) -> None:
    where = f"{endpoint.method} {endpoint.template}"
    if endpoint.is_api:
        assert response.status_code == 401, f"{where}: {response.status_code}"
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["www-authenticate"] == "Bearer"
        return
    if endpoint == Endpoint("POST", "/logout"):  # no session to end; no CSRF token either
        assert response.status_code == 403, where
        return
    for _ in range(3):  # "/" sends to /pipeline, which sends to the login
        assert response.status_code == 303, f"{where}: {response.status_code}"
        location = response.headers["location"]
        if location.startswith("/login"):
            return
        response = api.client.get(location, follow_redirects=False)
    pytest.fail(f"{where} never sent the stranger to the login page")


def test_every_endpoint_but_the_open_ones_refuses_a_stranger(api: Api) -> None:
    found = endpoints(api.client.app)  # type: ignore[arg-type]
    assert len(found) > 60, "the enumeration sees every command and page"
    assert set(found) >= OPEN, "every open endpoint still exists"
    for endpoint in found:
        if endpoint not in OPEN:
            assert_refused(api, endpoint, call(api, endpoint))


def test_the_open_endpoints_hold_no_data(api: Api) -> None:
    for endpoint in OPEN - {Endpoint("POST", "/login")}:
        response = call(api, endpoint)
        assert response.status_code == 200, endpoint
        for word in DATA:
            assert word not in response.text, f"{endpoint.template} shows {word!r}"
    files = [p for p in Path(STATIC).rglob("*") if p.is_file()]
    others = {p.relative_to(STATIC).as_posix() for p in files if p.suffix != ".css"}
    vendored = {"vendor/amsterdam/LICENSE-EUPL-1.2.txt", "vendor/amsterdam/VERSIONS.txt"}
    assert others <= vendored, "static holds only styles"


@pytest.mark.parametrize("kind", list(BAD_CREDENTIALS))
def test_bad_credentials_open_no_api_endpoint(api: Api, kind: str) -> None:
    for endpoint in endpoints(api.client.app):  # type: ignore[arg-type]
        if endpoint.is_api and endpoint not in OPEN:
            response = call(api, endpoint, BAD_CREDENTIALS[kind])
            # 429 once the address has sent too many unknown tokens: refused all the same
            assert response.status_code in (401, 429), f"{endpoint.template}: {response.text}"
            for word in DATA:
                assert word not in response.text


def test_a_token_in_the_query_string_is_not_a_credential(api: Api) -> None:
    token = api.tokens["audrey"]
    for query in (f"?token={token}", f"?access_token={token}", f"?authorization=Bearer%20{token}"):
        assert api.client.get(f"/api/pipeline{query}").status_code == 401


def test_a_revoked_user_is_refused_by_the_api_and_the_pages(api: Api) -> None:
    headers = api.as_("broker-bas")
    assert api.client.get("/api/pipeline", headers=headers).status_code == 200
    log_in(api.client, api.tokens["broker-bas"])
    assert api.client.get("/pipeline", follow_redirects=False).status_code == 200
    revoke_user(api.client.app.state.backend.read_store.engine, "broker-bas")  # type: ignore[attr-defined]
    assert api.client.get("/api/pipeline", headers=headers).status_code == 401
    page = api.client.get("/pipeline", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")


def test_logging_in_never_sends_the_browser_to_another_site(api: Api) -> None:
    elsewhere = [
        "//evil.example/pipeline",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/pipeline\r\nSet-Cookie: stolen=1",
        "",
    ]
    for target, expected in [(t, "/pipeline") for t in elsewhere] + [
        ("/initiatives/timber-reuse?as_of=2018-01-01", "/initiatives/timber-reuse?as_of=2018-01-01")
    ]:
        csrf = csrf_of(api.client.get("/login").text)
        response = api.client.post(
            "/login",
            data={"token": api.tokens["audrey"], "csrf_token": csrf, "next": target},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert response.headers["location"] == expected, target
