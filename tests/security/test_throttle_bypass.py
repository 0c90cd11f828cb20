"""The login throttle slows guessing without locking valid users out, and cannot be dodged.

Found: six bad tokens from one address locked that address's valid users out; one valid
login cleared the address's failures (an attacker with any token of their own guessed on
for ever); a client on loopback set `X-Forwarded-For` to anything and was never throttled
(uvicorn trusts forwarded headers from 127.0.0.1 by default). The clock is the test's own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from adapters.api.app import create_app
from adapters.api.throttle import LoginThrottle
from adapters.settings import Settings
from tests.security.conftest import ClockedApi, ManualClock, csrf_of
from tests.serving import answering, free_port

FREE = 5
GUESS = {"Authorization": "Bearer kl_guess"}


def try_login(api: ClockedApi, token: str, forwarded: str | None = None) -> int:
    extra = {"X-Forwarded-For": forwarded} if forwarded else {}
    csrf = csrf_of(api.client.get("/login").text)
    response = api.client.post(
        "/login",
        data={"token": token, "csrf_token": csrf},
        headers=extra,
        follow_redirects=False,
    )
    return response.status_code


@pytest.fixture
def behind_proxy(loaded_home: tuple[Path, dict[str, str]]) -> Iterator[ClockedApi]:
    """The app behind a trusted proxy: the test client's own address is the proxy's."""
    home, tokens = loaded_home
    clock = ManualClock()
    settings = Settings(home=home, trusted_proxies="testclient")
    with TestClient(create_app(settings, clock=clock)) as client:
        yield ClockedApi(client, tokens, home, clock)


def test_an_attacker_on_a_shared_address_locks_no_valid_user_out(clocked: ClockedApi) -> None:
    for _ in range(FREE + 10):
        try_login(clocked, "kl_guess")
        clocked.client.get("/api/pipeline", headers=GUESS)
    assert try_login(clocked, "kl_guess") == 429, "guessing is slowed"
    assert clocked.client.get("/api/pipeline", headers=GUESS).status_code == 429
    assert try_login(clocked, clocked.tokens["audrey"]) == 303, "the valid user logs in"
    ok = clocked.client.get("/api/pipeline", headers=clocked.as_("broker-bas"))
    assert ok.status_code == 200, "and a valid bearer token is served"


def test_a_success_does_not_clear_the_addresss_failures(clocked: ClockedApi) -> None:
    for _ in range(FREE + 1):
        assert try_login(clocked, "kl_guess") == 401
    assert try_login(clocked, clocked.tokens["audrey"]) == 303
    assert try_login(clocked, "kl_guess") == 429, "the failures still count"
    for _ in range(FREE + 1):
        assert clocked.client.get("/api/pipeline", headers=GUESS).status_code == 401
    assert clocked.client.get("/api/pipeline", headers=clocked.as_("audrey")).status_code == 200
    assert clocked.client.get("/api/pipeline", headers=GUESS).status_code == 429
    clocked.clock.advance(3600)  # only time forgets them
    for _ in range(FREE):
        assert try_login(clocked, "kl_guess") == 401


def test_forwarded_headers_are_ignored_unless_the_proxy_is_trusted(clocked: ClockedApi) -> None:
    for n in range(FREE + 1):
        forged = {**GUESS, "X-Forwarded-For": f"198.51.100.{n}"}
        assert clocked.client.get("/api/pipeline", headers=forged).status_code == 401
    forged = {**GUESS, "X-Forwarded-For": "203.0.113.77"}
    assert clocked.client.get("/api/pipeline", headers=forged).status_code == 429
    for n in range(FREE + 1):
        try_login(clocked, "kl_guess", forwarded=f"192.0.2.{n}")
    assert try_login(clocked, "kl_guess", forwarded="192.0.2.200") == 429


def test_a_trusted_proxys_forwarded_address_is_the_client(behind_proxy: ClockedApi) -> None:
    for _ in range(FREE + 1):
        behind_proxy.client.get("/api/pipeline", headers={**GUESS, "X-Forwarded-For": "192.0.2.1"})
    blocked = behind_proxy.client.get(
        "/api/pipeline", headers={**GUESS, "X-Forwarded-For": "192.0.2.1"}
    )
    assert blocked.status_code == 429
    other = behind_proxy.client.get(
        "/api/pipeline", headers={**GUESS, "X-Forwarded-For": "192.0.2.2"}
    )
    assert other.status_code == 401, "another client behind the proxy is counted apart"


def test_a_global_budget_slows_guessing_from_many_addresses(behind_proxy: ClockedApi) -> None:
    throttle: LoginThrottle = behind_proxy.client.app.state.throttle  # type: ignore[attr-defined]
    budget = throttle.global_budget
    assert 0 < budget <= 1000
    for n in range(budget):
        address = f"10.{n // 250}.{n % 250}.1"
        answer = behind_proxy.client.get(
            "/api/pipeline", headers={**GUESS, "X-Forwarded-For": address}
        )
        assert answer.status_code == 401, n
    fresh = {**GUESS, "X-Forwarded-For": "172.16.0.1"}
    refused = behind_proxy.client.get("/api/pipeline", headers=fresh)
    assert refused.status_code == 429, "a fresh address is slowed too once the budget is spent"
    assert int(refused.headers["retry-after"]) >= 1
    assert try_login(behind_proxy, "kl_guess", forwarded="172.16.0.2") == 429
    valid = {**behind_proxy.as_("audrey"), "X-Forwarded-For": "172.16.0.3"}
    assert behind_proxy.client.get("/api/pipeline", headers=valid).status_code == 200
    behind_proxy.clock.advance(throttle.global_window)
    assert behind_proxy.client.get("/api/pipeline", headers=fresh).status_code == 401


def test_the_throttle_never_forgets_on_success() -> None:
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    for _ in range(FREE + 1):
        throttle.failed("login:198.51.100.7")
    throttle.succeeded("login:198.51.100.7")
    assert throttle.wait("login:198.51.100.7") == 1


@pytest.mark.slow
def test_kringloop_api_trusts_no_forwarded_header_by_default(
    loaded_home: tuple[Path, dict[str, str]],
) -> None:
    """A real `kringloop api` on loopback: uvicorn's default (trust 127.0.0.1) is off."""
    home, _ = loaded_home
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "--home", str(home), "api", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            k: v
            for k, v in os.environ.items()
            if not k.startswith("KRINGLOOP_") and k != "FORWARDED_ALLOW_IPS"
        },
    )
    try:
        base = answering(server, port)
        answers = [
            httpx.get(
                f"{base}/api/pipeline",
                headers={**GUESS, "X-Forwarded-For": f"198.51.100.{n}"},
                timeout=10,
            ).status_code
            for n in range(FREE + 2)
        ]
    finally:
        server.terminate()
        server.communicate(timeout=30)
    assert answers == [401] * (FREE + 1) + [429], answers
