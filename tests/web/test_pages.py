"""The pages' guards without a browser: login, the session cookie, CSRF, roles."""

from __future__ import annotations

import re

from tests.api.conftest import Api


def logged_in(api: Api, user: str) -> None:
    page = api.client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    response = api.client.post(
        "/login",
        data={"token": api.tokens[user], "csrf_token": csrf.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_pages_send_strangers_to_the_login(api: Api) -> None:
    response = api.client.get("/pipeline", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_a_wrong_token_does_not_log_in(api: Api) -> None:
    csrf = csrf_of(api.client.get("/login").text)
    response = api.client.post("/login", data={"token": "nope", "csrf_token": csrf})
    assert response.status_code == 401
    assert "Dit token is onbekend of ingetrokken" in response.text


def test_a_form_without_the_csrf_token_is_refused(api: Api) -> None:
    logged_in(api, "broker-bas")
    response = api.client.post(
        "/initiatives/timber-reuse/commands/stall", data={"reason": "waiting"}
    )
    assert response.status_code == 403
    page = api.client.get("/initiatives/timber-reuse")
    assert "stilgevallen" not in page.text.split('id="timeline"')[0]


def test_a_broker_stalls_through_the_form(api: Api) -> None:
    logged_in(api, "broker-bas")
    csrf = csrf_of(api.client.get("/initiatives/timber-reuse").text)
    response = api.client.post(
        "/initiatives/timber-reuse/commands/stall",
        data={"reason": "waiting for the permit", "csrf_token": csrf},
    )
    assert response.status_code == 200
    assert "Stap vastgelegd: Als stilgevallen markeren" in response.text


def test_an_auditor_posting_a_form_is_refused(api: Api) -> None:
    logged_in(api, "audrey")
    page = api.client.get("/initiatives/timber-reuse")
    assert "data-command" not in page.text
    response = api.client.post(
        "/initiatives/timber-reuse/commands/stall",
        data={"reason": "sneaky", "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 403


def test_logging_out_ends_the_session(api: Api) -> None:
    logged_in(api, "audrey")
    csrf = csrf_of(api.client.get("/pipeline").text)
    api.client.post("/logout", data={"csrf_token": csrf})
    assert api.client.get("/pipeline", follow_redirects=False).status_code == 303


def test_an_error_page_is_headed_by_what_happened(api: Api) -> None:
    logged_in(api, "broker-bas")
    missing = api.client.get("/initiatives/no-such-initiative")
    assert missing.status_code == 404
    assert re.search(r"<h1[^>]*>Niet gevonden</h1>", missing.text)
    english = api.client.get("/initiatives/no-such-initiative?lang=en")
    assert re.search(r"<h1[^>]*>Not found</h1>", english.text)
    csrf = csrf_of(api.client.get("/pipeline").text)
    forbidden = api.client.post(
        "/programmes/mra-circular/commands/set-target", data={"csrf_token": csrf}
    )
    assert forbidden.status_code == 403
    assert re.search(r"<h1[^>]*>Not allowed</h1>", forbidden.text)  # the choice above


def test_a_broker_is_offered_no_step_on_a_stream_outside_their_mandate(api: Api) -> None:
    """broker-bas holds mandates for textiles and construction, not for diapers: the diaper
    initiative's page says why he takes no steps there, and offers no form to be refused."""
    logged_in(api, "broker-bas")
    outside = api.client.get("/initiatives/diaper-recycling?lang=nl")
    assert outside.status_code == 200
    assert 'id="unmandated"' in outside.text
    assert "U zet geen stappen in dit initiatief: " in outside.text
    assert "geen mandaat" in outside.text
    assert 'action="/initiatives/diaper-recycling/commands/' not in outside.text
    inside = api.client.get("/initiatives/timber-reuse?lang=nl")
    assert 'id="unmandated"' not in inside.text
    assert 'action="/initiatives/timber-reuse/commands/' in inside.text
    logged_in(api, "board-secretariat")  # a manager enters paperwork for brokers: forms stay
    assert (
        'action="/initiatives/diaper-recycling/commands/'
        in api.client.get("/initiatives/diaper-recycling").text
    )
