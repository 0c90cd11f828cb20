"""Reads answer from read models a follower keeps current: a decision's position comes back
in a header, a read sending it sees the decision; every read carries an ETag of the read
models' position, the query and who asks; If-None-Match answers 304 without a query; the
answers kept in memory are never another user's."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.api import reads
from adapters.api.app import create_app
from adapters.api.backend import Backend
from adapters.api.conditional import POSITION_HEADER, PositionCache
from adapters.settings import Settings
from adapters.store import open_engine
from domain.commands.catalogue import parse_command
from domain.engine import Engine
from tests.api.conftest import Api

FULFIL = {
    "initiative_id": "timber-reuse",
    "precondition": "demolition-volume",
    "reason": "demolition contracts signed",
    "evidence": ["contracts-2018.pdf"],
    "effective": "2018-08-01",
}


def backend_of(api: Api) -> Backend:
    found: Backend = api.client.app.state.backend  # type: ignore[attr-defined]
    return found


@pytest.fixture
def outside(api: Api) -> Iterator[Engine]:
    """Another engine on the same store, as another process (the CLI, a flow) would be:
    what it records reaches the app only through the app's follower."""
    engine = open_engine(Settings(home=api.home))
    yield engine
    engine.close()


def fulfil_outside(engine: Engine) -> int:
    outcome = engine.execute(
        parse_command({**FULFIL, "command": "fulfil-precondition", "actor": "broker-bas"})
    )
    assert outcome.notification_id is not None
    return outcome.notification_id


def open_preconditions(response: Any) -> int:
    assert response.status_code == 200, response.text
    found: int = response.json()["initiative"]["open_preconditions"]
    return found


def test_the_follower_runs_with_the_app_and_stops_with_it(
    loaded_home: tuple[Any, dict[str, str]],
) -> None:
    home, _ = loaded_home
    app = create_app(Settings(home=home))
    side = app.state.backend.read_side
    assert not side.following, "nothing follows before the app starts"
    with TestClient(app):
        assert side.following, "caught up before the first request"
        assert side.position > 0
        thread = side._thread
        assert thread is not None
        assert thread.is_alive()
    assert not side.following
    assert not thread.is_alive(), "the follower stopped with the app"


def test_the_follower_applies_what_another_process_records(api: Api, outside: Engine) -> None:
    before = open_preconditions(
        api.client.get("/api/initiatives/timber-reuse", headers=api.as_("audrey"))
    )
    position = fulfil_outside(outside)
    assert backend_of(api).read_side.reached(position, timeout=30), "the follower applied it"
    after = api.client.get("/api/initiatives/timber-reuse", headers=api.as_("audrey"))
    assert open_preconditions(after) == before - 1


def test_a_read_sending_a_position_sees_that_decision(api: Api, outside: Engine) -> None:
    position = fulfil_outside(outside)
    read = api.client.get(
        "/api/initiatives/timber-reuse",
        headers={**api.as_("audrey"), POSITION_HEADER: str(position)},
    )
    assert open_preconditions(read) == 0
    assert backend_of(api).read_side.position >= position


def test_a_command_answers_with_its_position_and_its_read_sees_it(api: Api) -> None:
    decided = api.client.post(
        "/api/commands/fulfil-precondition", json=FULFIL, headers=api.as_("broker-bas")
    )
    assert decided.status_code == 200, decided.text
    position = int(decided.headers[POSITION_HEADER])
    assert position == decided.json()["notification_id"]
    read = api.client.get(
        "/api/initiatives/timber-reuse",
        headers={**api.as_("audrey"), POSITION_HEADER: str(position)},
    )
    assert open_preconditions(read) == 0
    again = api.client.post(
        "/api/commands/fulfil-precondition",
        json=FULFIL,
        headers={**api.as_("broker-bas"), "Idempotency-Key": decided.json()["command_id"]},
    )
    assert again.json()["replayed"] is True
    assert int(again.headers[POSITION_HEADER]) >= position, "a replay names a position too"


@pytest.mark.parametrize(("sent", "status"), [("soon", 400), ("-3", 400), ("999999999", 503)])
def test_a_position_that_cannot_be_waited_for_is_refused(api: Api, sent: str, status: int) -> None:
    response = api.client.get("/api/pipeline", headers={**api.as_("audrey"), POSITION_HEADER: sent})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert POSITION_HEADER in response.json()["detail"] or "position" in response.json()["detail"]
    if status == 503:
        assert response.headers["retry-after"] == "1"


def test_a_read_carries_an_etag_and_stays_private(api: Api) -> None:
    response = api.client.get("/api/pipeline", headers=api.as_("audrey"))
    assert response.status_code == 200
    assert re.fullmatch(r'W/"[0-9a-f]{32}"', response.headers["etag"])
    assert response.headers["cache-control"] == "private, no-cache"
    assert response.headers["x-content-type-options"] == "nosniff", "security headers kept"


def test_a_matching_if_none_match_is_304_without_running_the_query(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = api.client.get("/api/pipeline", headers=api.as_("audrey"))
    asked: list[object] = []
    real = reads.queries.pipeline
    monkeypatch.setattr(reads.queries, "pipeline", lambda *a: asked.append(a) or real(*a))
    etag = first.headers["etag"]
    response = api.client.get("/api/pipeline", headers={**api.as_("audrey"), "If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert asked == [], "no query ran"
    kept = api.client.get("/api/pipeline", headers=api.as_("audrey"))
    assert kept.status_code == 200
    assert kept.content == first.content
    assert kept.headers["etag"] == etag
    assert asked == [], "the kept answer was served"


def test_a_decision_changes_the_etag_and_the_answer(api: Api) -> None:
    first = api.client.get("/api/initiatives/timber-reuse", headers=api.as_("audrey"))
    decided = api.client.post(
        "/api/commands/fulfil-precondition", json=FULFIL, headers=api.as_("broker-bas")
    )
    assert decided.status_code == 200
    after = api.client.get(
        "/api/initiatives/timber-reuse",
        headers={**api.as_("audrey"), "If-None-Match": first.headers["etag"]},
    )
    assert after.status_code == 200, "the old ETag no longer matches"
    assert after.headers["etag"] != first.headers["etag"]
    assert open_preconditions(after) == open_preconditions(first) - 1


def test_the_etag_differs_by_user_query_and_language(api: Api) -> None:
    def etag(user: str, path: str = "/api/pipeline", **headers: str) -> str:
        response = api.client.get(path, headers={**api.as_(user), **headers})
        assert response.status_code == 200
        return response.headers["etag"]

    tags = {
        etag("audrey"),
        etag("board-secretariat"),
        etag("audrey", "/api/pipeline?programme_id=mra-circular"),
        etag("audrey", **{"Accept-Language": "nl"}),
        etag("audrey", "/api/pipeline?format=csv"),
    }
    assert len(tags) == 5
    other = api.client.get(
        "/api/pipeline",
        headers={**api.as_("board-secretariat"), "If-None-Match": etag("audrey")},
    )
    assert other.status_code == 200, "another user's ETag is not theirs"


def logged_in_browser(api: Api, user: str) -> TestClient:
    """A browser of its own (its own cookies) on the running app, logged in as ``user``."""
    browser = TestClient(api.client.app)
    login = browser.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
    assert csrf is not None
    browser.post("/login", data={"token": api.tokens[user], "csrf_token": csrf.group(1)})
    return browser


def test_a_kept_page_is_never_another_users(api: Api) -> None:
    bas, anna = logged_in_browser(api, "broker-bas"), logged_in_browser(api, "broker-anna")
    first = bas.get("/initiatives/timber-reuse")
    again = bas.get("/initiatives/timber-reuse")
    assert first.status_code == again.status_code == 200
    assert again.text == first.text, "the same page, kept"
    theirs = anna.get("/initiatives/timber-reuse")
    assert theirs.status_code == 200
    assert logged_in_as(theirs.text) == "broker-anna"
    assert logged_in_as(first.text) == "broker-bas"
    assert csrf_in(theirs.text) != csrf_in(first.text), "each session's own form token"
    assert theirs.headers["etag"] != first.headers["etag"]
    refused = anna.get(
        "/initiatives/timber-reuse", headers={"If-None-Match": first.headers["etag"]}
    )
    assert refused.status_code == 200


def logged_in_as(html: str) -> str:
    """The name the page's header says is logged in."""
    found = re.search(r'<p class="who">.*?<strong translate="no">([^<]+)</strong>', html)
    assert found is not None
    return found.group(1)


def csrf_in(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_a_page_decision_shows_on_the_page_it_returns_to(api: Api) -> None:
    bas = logged_in_browser(api, "broker-bas")
    before = bas.get("/initiatives/timber-reuse")
    form = {
        "csrf_token": csrf_in(before.text),
        "precondition": "demolition-volume",
        "reason": "demolition contracts signed",
        "evidence": "contracts-2018.pdf",
        "effective": "2018-08-01",
    }
    done = bas.post(
        "/initiatives/timber-reuse/commands/fulfil-precondition", data=form, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    after = bas.get(done.headers["location"])
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert "demolition contracts signed" in after.text
    assert "demolition contracts signed" not in before.text


def test_a_download_is_kept_with_its_own_etag(api: Api) -> None:
    first = api.client.get("/api/decisions?format=csv", headers=api.as_("audrey"))
    second = api.client.get("/api/decisions?format=csv", headers=api.as_("audrey"))
    assert first.status_code == second.status_code == 200
    assert first.headers["content-disposition"] == second.headers["content-disposition"]
    assert first.content == second.content
    assert first.headers["etag"] == second.headers["etag"]
    assert json.dumps(dict(first.headers)).count("etag") == 1


def test_a_role_revoked_by_a_decision_is_refused_at_the_next_read(api: Api) -> None:
    assert api.client.get("/api/pipeline", headers=api.as_("audrey")).status_code == 200
    revoked = api.client.post(
        "/api/commands/revoke-role",
        json={"identity": "audrey", "role": "auditor", "reason": "left the programme"},
        headers=api.as_("board-secretariat"),
    )
    assert revoked.status_code == 200, revoked.text
    refused = api.client.get("/api/pipeline", headers=api.as_("audrey"))
    assert refused.status_code == 403, "the role was looked up again at the new position"


def test_kept_answers_are_bounded_by_count_and_bytes() -> None:
    cache = PositionCache(size=2, budget=10)
    cache.put("a", 1, weight=4)
    cache.put("b", 2, weight=4)
    assert cache.get("a") == 1  # now b is the least recently used
    cache.put("c", 3, weight=4)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    cache.put("d", 4, weight=9)
    assert len(cache) == 1
    assert cache.get("d") == 4
    cache.clear()
    assert cache.get("d") is None


def test_a_page_decision_leaves_its_position_for_the_next_page(api: Api, outside: Engine) -> None:
    bas = logged_in_browser(api, "broker-bas")
    page = bas.get("/initiatives/timber-reuse")
    form = {
        "csrf_token": csrf_in(page.text),
        "precondition": "demolition-volume",
        "reason": "demolition contracts signed",
        "evidence": "contracts-2018.pdf",
        "effective": "2018-08-01",
    }
    done = bas.post(
        "/initiatives/timber-reuse/commands/fulfil-precondition", data=form, follow_redirects=False
    )
    assert done.status_code == 303
    assert "kringloop_position=" in done.headers["set-cookie"]
    position = int(bas.cookies["kringloop_position"])
    assert position == backend_of(api).read_side.position
    # another worker's decision, not yet followed: a page sent with its position shows it
    escalate = {"initiative_id": "timber-reuse", "concern": "stalled", "subject": "permits"}
    outcome = outside.execute(
        parse_command(
            {**escalate, "command": "escalate", "actor": "broker-bas", "reason": "permits late"}
        )
    )
    bas.cookies.set("kringloop_position", str(outcome.notification_id))
    shown = bas.get("/initiatives/timber-reuse")
    assert shown.status_code == 200
    assert "permits late" in shown.text


@pytest.mark.postgres
def test_on_postgresql_the_follower_listens_and_applies_what_another_process_records(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path, database_url=postgres_url, database_schema="k_follow")
    app = create_app(settings)
    with TestClient(app):
        side = app.state.backend.read_side
        assert side.following
        assert side._follower is not None
        assert side._follower.mode == "listening"
        outside = open_engine(settings)
        try:
            outcome = outside.execute(
                parse_command(
                    {
                        "command": "init-authority",
                        "actor": "operator:setup",
                        "reason": "the register starts",
                        "effective": "2015-01-01",
                        "manager": "board-secretariat",
                    }
                )
            )
        finally:
            outside.close()
        assert outcome.notification_id is not None
        assert side.reached(outcome.notification_id, timeout=30), "woken by NOTIFY"


def test_a_position_cookie_from_another_server_is_ignored(api: Api) -> None:
    bas = logged_in_browser(api, "broker-bas")
    bas.cookies.set("kringloop_position", "999999999")  # a cookie goes to every port
    assert bas.get("/initiatives/timber-reuse").status_code == 200
