"""Repeated failed logins are slowed down: after five free failures from one address each
failure doubles the wait (429 with Retry-After), on the login form and for unknown bearer
tokens; a valid token is not made to wait. The throttle's clock is the test's own: nothing
sleeps."""

from __future__ import annotations

from adapters.api.throttle import LoginThrottle
from tests.security.conftest import ClockedApi, csrf_of

FREE = 5


def try_login(api: ClockedApi, token: str) -> int:
    csrf = csrf_of(api.client.get("/login").text)
    response = api.client.post(
        "/login", data={"token": token, "csrf_token": csrf}, follow_redirects=False
    )
    if response.status_code == 429:
        assert "Te vaak mislukt in te loggen" in response.text
        assert int(response.headers["retry-after"]) >= 1
    return response.status_code


def test_five_failed_logins_are_free_then_each_one_doubles_the_wait(clocked: ClockedApi) -> None:
    for _ in range(FREE):
        assert try_login(clocked, "kl_guess") == 401
    assert try_login(clocked, "kl_guess") == 401  # the sixth failure earns a wait of 1 s
    for wait in (1, 2, 4, 8):
        assert try_login(clocked, "kl_guess") == 429
        clocked.clock.advance(wait - 0.01)
        assert try_login(clocked, "kl_guess") == 429, "not a moment before"
        clocked.clock.advance(0.01)
        assert try_login(clocked, "kl_guess") == 401  # tried once more: the wait doubles


def test_the_wait_says_how_long_and_is_capped(clocked: ClockedApi) -> None:
    throttle: LoginThrottle = clocked.client.app.state.throttle  # type: ignore[attr-defined]
    for _ in range(40):
        throttle.failed("login:testclient")
        clocked.clock.advance(throttle.wait("login:testclient"))
    throttle.failed("login:testclient")
    assert throttle.wait("login:testclient") == throttle.max_wait == 900
    csrf = csrf_of(clocked.client.get("/login").text)
    response = clocked.client.post("/login", data={"token": "x", "csrf_token": csrf})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "900"


def test_the_right_token_logs_in_during_the_wait_and_clears_nothing(clocked: ClockedApi) -> None:
    """Only failures wait: a valid user on the guesser's address is not locked out, and
    their success does not give the guesser a fresh count (test_throttle_bypass.py)."""
    for _ in range(FREE + 1):
        try_login(clocked, "kl_guess")
    assert try_login(clocked, clocked.tokens["audrey"]) == 303
    assert try_login(clocked, "kl_guess") == 429, "the count did not start again"


def test_an_hour_without_failures_forgets_them(clocked: ClockedApi) -> None:
    for _ in range(FREE + 3):
        try_login(clocked, "kl_guess")
    clocked.clock.advance(3600)
    for _ in range(FREE):
        assert try_login(clocked, "kl_guess") == 401


def test_unknown_bearer_tokens_are_slowed_down_the_same_way(clocked: ClockedApi) -> None:
    guess = {"Authorization": "Bearer kl_guess"}
    for _ in range(FREE + 1):
        assert clocked.client.get("/api/pipeline", headers=guess).status_code == 401
    refused = clocked.client.get("/api/pipeline", headers=guess)
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "throttled"
    assert refused.headers["retry-after"] == "1"
    assert clocked.client.get("/api/pipeline", headers=clocked.as_("audrey")).status_code == 200
    clocked.clock.advance(1)
    assert clocked.client.get("/api/pipeline", headers=guess).status_code == 401


def test_the_api_and_the_login_form_count_apart(clocked: ClockedApi) -> None:
    """A script with a stale token does not lock a person out of the pages."""
    for _ in range(FREE + 1):
        clocked.client.get("/api/pipeline", headers={"Authorization": "Bearer kl_stale"})
    assert try_login(clocked, clocked.tokens["audrey"]) == 303


def test_addresses_are_counted_apart() -> None:
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    for _ in range(FREE + 1):
        throttle.failed("login:198.51.100.7")
    assert throttle.wait("login:198.51.100.7") == 1
    assert throttle.wait("login:203.0.113.9") == 0


def test_a_flood_of_addresses_is_remembered_within_bounds() -> None:
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0], keep=100)
    for n in range(1000):
        now[0] += 1
        throttle.failed(f"api:client-{n}")
    assert len(throttle) <= 100
