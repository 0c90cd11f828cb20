"""Auditors read, verify and export; they write through no path. Every write route of the
API and every form of the pages is tried with an auditor's credentials."""

from __future__ import annotations

from domain.commands.catalogue import CATALOGUE, FORMER_NAMES
from tests.security.conftest import Api, Endpoint, csrf_of, endpoints, event_count, log_in

# POSTs that record nothing: checking the hash chain is the auditor's own job
READ_ONLY_POSTS = {Endpoint("POST", "/api/audit/verify"), Endpoint("POST", "/audit/verify")}
# logging in and out is no decision: it changes only the caller's own session
SESSION_POSTS = {Endpoint("POST", "/login"), Endpoint("POST", "/logout")}
# one's own settings, no decision: an auditor sets where their notifications go
OWN_SETTINGS_POSTS = {Endpoint("POST", "/notifications/mine")}
# a body that a broker could send: the auditor is refused for the role, not for the input
STALL = {"initiative_id": "timber-reuse", "reason": "waiting for the permit"}


def test_every_api_write_refuses_an_auditor_and_records_nothing(api: Api) -> None:
    writes = [e for e in endpoints(api.client.app) if e.is_api and e.writes]  # type: ignore[arg-type]
    assert len(writes) == len(CATALOGUE) + len(FORMER_NAMES) + 1, (
        "a POST per command and per former name, and verify"
    )
    before = event_count(api.home)
    for endpoint in writes:
        response = api.client.request(
            endpoint.method, endpoint.path, json=STALL, headers=api.as_("audrey")
        )
        if endpoint in READ_ONLY_POSTS:
            assert response.status_code == 200, response.text
        else:
            assert response.status_code == 403, f"{endpoint.template}: {response.text}"
            assert response.json()["code"] == "forbidden"
        assert event_count(api.home) == before, endpoint.template


def test_every_form_refuses_an_auditor_and_records_nothing(api: Api) -> None:
    log_in(api.client, api.tokens["audrey"])
    page = api.client.get("/initiatives/timber-reuse")
    assert "data-command" not in page.text, "an auditor is shown no form"
    csrf = csrf_of(page.text)
    before = event_count(api.home)
    initiative_steps = [name for name, cls in CATALOGUE.items() if cls.group == "initiative"]
    for command in initiative_steps:
        response = api.client.post(
            f"/initiatives/timber-reuse/commands/{command}",
            data={"reason": "sneaky", "csrf_token": csrf},
            follow_redirects=False,
        )
        assert response.status_code == 403, f"{command}: {response.status_code}"
        assert event_count(api.home) == before, command


def test_every_page_post_is_a_form_refused_to_an_auditor_or_records_nothing(api: Api) -> None:
    """Whatever POST routes the pages gain later, an auditor's POST records nothing."""
    log_in(api.client, api.tokens["audrey"])
    csrf = csrf_of(api.client.get("/pipeline").text)
    before = event_count(api.home)
    posts = [e for e in endpoints(api.client.app) if not e.is_api and e.writes]  # type: ignore[arg-type]
    assert posts, "the pages have forms"
    for endpoint in sorted(set(posts) - SESSION_POSTS, key=lambda e: e.template):
        response = api.client.post(
            endpoint.path, data={"reason": "sneaky", "csrf_token": csrf}, follow_redirects=False
        )
        if endpoint in READ_ONLY_POSTS | OWN_SETTINGS_POSTS:
            assert response.status_code == 303
        else:
            assert response.status_code == 403, endpoint.template
        assert event_count(api.home) == before, endpoint.template


def test_a_manager_cannot_reach_programme_commands_through_the_initiative_forms(
    api: Api,
) -> None:
    log_in(api.client, api.tokens["board-secretariat"])
    csrf = csrf_of(api.client.get("/pipeline").text)
    before = event_count(api.home)
    response = api.client.post(
        "/initiatives/timber-reuse/commands/grant-mandate",
        data={"broker": "board-secretariat", "streams": "construction", "reason": "x"}
        | {"csrf_token": csrf},
    )
    assert response.status_code == 404
    assert event_count(api.home) == before
