"""Single sign-on against a real, certified OpenID provider (Node's oidc-provider on
loopback, tests/oidc/provider.mjs): provider JWTs at the API beside Kringloop's own tokens,
the web login's code flow, and a clear refusal for each way a token or a login can be
wrong. Refusals say which check failed; none opens anything."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from fastapi.testclient import TestClient

from adapters.accounts.oidc_links import link_subject, list_links, unlink_subject
from adapters.api import oidc
from adapters.api.app import create_app
from adapters.api.web.sso import PENDING_COOKIE
from adapters.logs import configure_logging
from tests.api.test_api import FULFIL
from tests.oidc.harness import (
    CALLBACK,
    SUBSTANTIAL,
    Client,
    OidcProvider,
    new_key,
    oidc_provider,  # noqa: F401  (the session's provider)
    sso_settings,
)

pytestmark = pytest.mark.slow

HIGH = "http://eidas.europa.eu/LoA/high"


@dataclass
class Sso:
    client: TestClient
    provider: OidcProvider
    registered: Client
    tokens: dict[str, str]

    @property
    def engine(self) -> Any:
        return self.client.app.state.backend.read_store.engine  # type: ignore[attr-defined]

    def link(self, name: str, subject: str) -> None:
        link_subject(self.engine, name, self.provider.issuer, subject)

    def bearer(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def verifier(self) -> oidc.Provider:
        found = oidc.provider_of(self.client.app)
        assert found is not None
        return found


@pytest.fixture(scope="module")
def registered(oidc_provider: OidcProvider) -> Client:  # noqa: F811
    """Kringloop registered at the provider, its redirect URL on the test client's host."""
    return oidc_provider.register(f"http://testserver{CALLBACK}")


def make_sso(
    home_tokens: tuple[Path, dict[str, str]], provider: OidcProvider, client: Client, **more: Any
) -> Iterator[Sso]:
    home, tokens = home_tokens
    with TestClient(create_app(sso_settings(home, provider, client, **more))) as test_client:
        yield Sso(test_client, provider, client, tokens)


@pytest.fixture
def sso(
    loaded_home: tuple[Path, dict[str, str]],
    oidc_provider: OidcProvider,  # noqa: F811
    registered: Client,
) -> Iterator[Sso]:
    # the NL GOV profile's way: the login asks for an assurance level and gets it as acr
    yield from make_sso(loaded_home, oidc_provider, registered, oidc_acr_values=SUBSTANTIAL)


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Kringloop's JSON log lines (as tests/security/test_logs.py captures them)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    configure_logging("info")
    ours = logging.getLogger("kringloop")
    ours.addHandler(handler)
    yield stream
    ours.removeHandler(handler)
    configure_logging("warning")


def events(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


def detail(response: Any) -> str:
    return str(response.json()["detail"])


# -- the API: provider JWTs beside kl_ tokens -------------------------------------------


def test_a_provider_access_token_acts_as_the_linked_user(sso: Sso) -> None:
    sso.link("broker-bas", "bas@gemeente.example")
    access = sso.provider.tokens(sso.registered, "bas@gemeente.example")["access_token"]
    assert oidc.looks_like_jwt(access)
    assert not oidc.looks_like_jwt(sso.tokens["broker-bas"])
    answer = sso.client.post(
        "/api/commands/fulfil-precondition", json=FULFIL, headers=sso.bearer(access)
    )
    assert answer.status_code == 200, answer.text
    history = sso.client.get("/api/initiatives/timber-reuse", headers=sso.bearer(access)).json()
    assert history["decisions"][-1]["actor"] == "broker-bas"
    # Kringloop's own token still works beside it
    own = sso.client.get(
        "/api/pipeline", headers={"Authorization": f"Bearer {sso.tokens['audrey']}"}
    )
    assert own.status_code == 200


def test_the_linked_users_role_holds_for_provider_tokens(sso: Sso) -> None:
    sso.link("audrey", "audrey@rekenkamer.example")
    access = sso.provider.tokens(sso.registered, "audrey@rekenkamer.example")["access_token"]
    assert sso.client.get("/api/pipeline", headers=sso.bearer(access)).status_code == 200
    answer = sso.client.post(
        "/api/commands/fulfil-precondition", json=FULFIL, headers=sso.bearer(access)
    )
    assert answer.status_code == 403
    assert "role auditor" in detail(answer)


def test_an_unlinked_subject_gets_no_access(sso: Sso) -> None:
    access = sso.provider.tokens(sso.registered, "nobody@gemeente.example")["access_token"]
    answer = sso.client.get("/api/pipeline", headers=sso.bearer(access))
    assert answer.status_code == 403
    assert "'nobody@gemeente.example'" in detail(answer)
    assert "linked to no user" in detail(answer)


def test_unlinking_or_revoking_ends_api_access(sso: Sso) -> None:
    sso.link("broker-bas", "bas@gemeente.example")
    access = sso.provider.tokens(sso.registered, "bas@gemeente.example")["access_token"]
    assert sso.client.get("/api/pipeline", headers=sso.bearer(access)).status_code == 200
    unlink_subject(sso.engine, "broker-bas", sso.provider.issuer, "bas@gemeente.example")
    assert sso.client.get("/api/pipeline", headers=sso.bearer(access)).status_code == 403
    assert list_links(sso.engine) == []


def tampered(token: str) -> str:
    head, body, signature = token.split(".")
    flipped = ("A" if signature[10] != "A" else "B").join((signature[:10], signature[11:]))
    return f"{head}.{body}.{flipped}"


REFUSALS: dict[str, tuple[Any, str]] = {
    # name: (how to make the token from (provider, client, subject), words of the refusal)
    "wrong audience": (
        lambda p, c, s: p.sign(p.claims(c, s, aud="another-application")),
        "wrong audience",
    ),
    "expired": (
        lambda p, c, s: p.sign(
            p.claims(c, s, iat=int(time.time()) - 900, exp=int(time.time()) - 120)
        ),
        "expired",
    ),
    "unknown key id": (
        lambda p, c, s: p.sign(p.claims(c, s), key=new_key("a-stranger's-key")),
        "unknown key id",
    ),
    "tampered signature": (
        lambda p, c, s: tampered(p.tokens(c, s)["access_token"]),
        "signature does not verify",
    ),
    "signed by another key under the provider's kid": (
        lambda p, c, s: p.sign(p.claims(c, s), key=new_key("x"), kid=p.keys[0].kid),
        "signature does not verify",
    ),
    "wrong issuer": (
        lambda p, c, s: p.sign(p.claims(c, s, iss="https://login.elsewhere.example")),
        "wrong issuer",
    ),
    "issued in the future": (
        lambda p, c, s: p.sign(p.claims(c, s, iat=int(time.time()) + 600)),
        "issued in the future",
    ),
    "no expiry": (
        lambda p, c, s: p.sign({k: v for k, v in p.claims(c, s).items() if k != "exp"}),
        "lacks the exp claim",
    ),
    "alg none": (
        lambda p, c, s: (
            "eyJhbGciOiJub25lIiwia2lkIjoia2V5LTAifQ."
            + p.sign(p.claims(c, s)).split(".")[1]
            + ".AAAA"
        ),
        "algorithm 'none' is not accepted",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_bad_provider_token_is_refused_with_a_clear_message(
    sso: Sso, case: str, logs: io.StringIO
) -> None:
    make, words = REFUSALS[case]
    sso.link("broker-bas", "bas@gemeente.example")
    token = make(sso.provider, sso.registered, "bas@gemeente.example")
    answer = sso.client.get("/api/pipeline", headers=sso.bearer(token))
    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert detail(answer).startswith("provider token refused: ")
    assert words in detail(answer), detail(answer)
    assert "timber-reuse" not in answer.text
    refusal = [entry for entry in events(logs) if entry["event"] == "access refused"]
    assert refusal
    assert words in refusal[0]["detail"]
    assert token.split(".")[2][:20] not in logs.getvalue(), "the token itself is never logged"


def test_clock_skew_is_allowed_up_to_the_setting(sso: Sso) -> None:
    sso.link("broker-bas", "bas@gemeente.example")
    now = int(time.time())
    p, c = sso.provider, sso.registered
    late = p.sign(p.claims(c, "bas@gemeente.example", iat=now - 600, exp=now - 20))
    assert sso.client.get("/api/pipeline", headers=sso.bearer(late)).status_code == 200
    too_late = p.sign(p.claims(c, "bas@gemeente.example", iat=now - 600, exp=now - 90))
    answer = sso.client.get("/api/pipeline", headers=sso.bearer(too_late))
    assert answer.status_code == 401
    assert "expired" in detail(answer)


def test_an_unknown_kid_fetches_the_key_set_once_then_refuses(sso: Sso) -> None:
    sso.link("broker-bas", "bas@gemeente.example")
    p, c = sso.provider, sso.registered
    good = p.sign(p.claims(c, "bas@gemeente.example"))
    assert sso.client.get("/api/pipeline", headers=sso.bearer(good)).status_code == 200
    fetched = sso.verifier().key_fetches
    stranger = p.sign(p.claims(c, "bas@gemeente.example"), key=new_key("rogue"))
    answer = sso.client.get("/api/pipeline", headers=sso.bearer(stranger))
    assert answer.status_code == 401
    assert "unknown key id 'rogue'" in detail(answer)
    assert sso.verifier().key_fetches == fetched + 1, "fetched again exactly once"
    # straight after, another unknown kid is refused from the cache: no fetch storm
    sso.client.get("/api/pipeline", headers=sso.bearer(stranger))
    assert sso.verifier().key_fetches == fetched + 1


def test_a_rotated_key_is_picked_up(
    loaded_home: tuple[Path, dict[str, str]],
    oidc_provider: OidcProvider,  # noqa: F811
    registered: Client,
) -> None:
    for sso in make_sso(loaded_home, oidc_provider, registered):
        sso.link("broker-bas", "bas@gemeente.example")
        before = sso.provider.tokens(sso.registered, "bas@gemeente.example")["access_token"]
        assert sso.client.get("/api/pipeline", headers=sso.bearer(before)).status_code == 200
        fetched = sso.verifier().key_fetches
        new = sso.provider.rotate()
        after = sso.provider.tokens(sso.registered, "bas@gemeente.example")["access_token"]
        assert f'"kid":"{new.kid}"'.encode() in __import__("base64").urlsafe_b64decode(
            after.split(".")[0] + "=="
        )
        assert sso.client.get("/api/pipeline", headers=sso.bearer(after)).status_code == 200
        assert sso.verifier().key_fetches == fetched + 1
        # the old key is still published for a while: its tokens still hold
        assert sso.client.get("/api/pipeline", headers=sso.bearer(before)).status_code == 200


def test_provider_tokens_are_refused_where_single_sign_on_is_off(
    api: Any,
    oidc_provider: OidcProvider,  # noqa: F811
    registered: Client,
) -> None:
    token = oidc_provider.sign(oidc_provider.claims(registered, "bas@gemeente.example"))
    answer = api.client.get("/api/pipeline", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert "no OpenID provider is configured" in answer.json()["detail"]
    # and the web login's doors send the browser to the token login
    start = api.client.get("/login/oidc", follow_redirects=False)
    assert start.status_code == 303
    assert start.headers["location"] == "/login"


def test_an_id_token_with_another_nonce_is_refused(sso: Sso) -> None:
    id_token = sso.provider.tokens(sso.registered, "bas@gemeente.example")["id_token"]
    verifier = sso.verifier()
    claims = verifier.verify(id_token, sso.registered.client_id, nonce="n-0", id_token=True)
    assert claims["acr"] == SUBSTANTIAL
    with pytest.raises(oidc.TokenRefused, match="nonce does not match"):
        verifier.verify(id_token, sso.registered.client_id, nonce="another", id_token=True)


# -- the web login: the code flow through the test client ----------------------------------


def start_login(sso: Sso) -> tuple[str, str]:
    """Start at /login/oidc and log in at the provider; return the callback URL (path and
    query, on the test client) and the pending-login cookie."""
    start = sso.client.get("/login/oidc?next=/programmes", follow_redirects=False)
    assert start.status_code == 303
    authorize = start.headers["location"]
    query = urlsplit(authorize).query
    assert "code_challenge_method=S256" in query
    assert "nonce=" in query
    assert "state=" in query
    cookie = sso.client.cookies.get(PENDING_COOKIE)
    assert cookie
    back = sso.provider.login_at_provider(requests.Session(), authorize, "bas@gemeente.example")
    parts = urlsplit(back)
    assert parts.path == CALLBACK
    return f"{parts.path}?{parts.query}", cookie


def test_the_web_login_opens_a_session_for_the_linked_user_and_keeps_the_acr(
    sso: Sso, logs: io.StringIO
) -> None:
    sso.link("broker-bas", "bas@gemeente.example")
    callback, _ = start_login(sso)
    answer = sso.client.get(callback, follow_redirects=False)
    assert answer.status_code == 200, answer.text
    assert 'http-equiv="refresh" content="0; url=/programmes"' in answer.text
    assert PENDING_COOKIE not in sso.client.cookies, "the pending login is spent"
    logged = [e for e in events(logs) if e["event"] == "logged in"]
    assert logged
    assert logged[0]["user"] == "broker-bas"
    assert logged[0]["acr"] == SUBSTANTIAL
    assert list_links(sso.engine)[0].last_acr == SUBSTANTIAL
    page = sso.client.get("/pipeline")
    assert page.status_code == 200
    assert "broker-bas" in page.text


def test_unlinking_ends_the_web_session(sso: Sso) -> None:
    sso.link("broker-bas", "bas@gemeente.example")
    callback, _ = start_login(sso)
    assert sso.client.get(callback, follow_redirects=False).status_code == 200
    assert sso.client.get("/pipeline", follow_redirects=False).status_code == 200
    unlink_subject(sso.engine, "broker-bas")
    answer = sso.client.get("/pipeline", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login")


def test_a_replayed_authorization_code_is_refused(sso: Sso, logs: io.StringIO) -> None:
    sso.link("broker-bas", "bas@gemeente.example")
    callback, pending = start_login(sso)
    assert sso.client.get(callback, follow_redirects=False).status_code == 200
    # the same callback again: the pending login is spent
    again = sso.client.get(callback, follow_redirects=False)
    assert again.status_code == 400
    assert "Deze inlogpoging is verlopen" in again.text
    # and with the pending-login cookie put back, the provider refuses the used code
    sso.client.cookies.set(PENDING_COOKIE, pending, path="/login/oidc")
    replay = sso.client.get(callback, follow_redirects=False)
    assert replay.status_code == 401, replay.text
    assert "accepteerde de code van deze inlogpoging niet" in replay.text
    assert "invalid_grant" in replay.text
    assert any(e.get("reason") == "code refused" for e in events(logs))


def test_a_callback_with_another_state_is_refused(sso: Sso) -> None:
    sso.link("broker-bas", "bas@gemeente.example")
    callback, _ = start_login(sso)
    forged = callback.replace("state=", "state=x")
    answer = sso.client.get(forged, follow_redirects=False)
    assert answer.status_code == 400
    assert "De state van deze inlogpoging klopt niet" in answer.text
    assert sso.client.get("/pipeline", follow_redirects=False).status_code == 303


def test_an_unlinked_subject_sees_a_clear_page(sso: Sso) -> None:
    callback, _ = start_login(sso)  # bas@gemeente.example, linked to nobody
    answer = sso.client.get(callback, follow_redirects=False)
    assert answer.status_code == 403
    assert "nog geen Kringloop-gebruiker aan uw account gekoppeld" in answer.text
    assert "bas@gemeente.example" in answer.text
    assert sso.provider.issuer in answer.text
    assert sso.client.get("/pipeline", follow_redirects=False).status_code == 303


def test_a_login_below_the_required_assurance_level_is_refused(
    loaded_home: tuple[Path, dict[str, str]],
    oidc_provider: OidcProvider,  # noqa: F811
    registered: Client,
) -> None:
    for sso in make_sso(loaded_home, oidc_provider, registered, oidc_acr_values=HIGH):
        sso.link("broker-bas", "bas@gemeente.example")
        start = sso.client.get("/login/oidc", follow_redirects=False)
        assert "acr_values=http%3A%2F%2Feidas.europa.eu%2FLoA%2Fhigh" in start.headers["location"]
        back = oidc_provider.login_at_provider(
            requests.Session(), start.headers["location"], "bas@gemeente.example", acr=SUBSTANTIAL
        )
        parts = urlsplit(back)
        answer = sso.client.get(f"{parts.path}?{parts.query}", follow_redirects=False)
        assert answer.status_code == 403
        assert "Betrouwbaarheidsniveau te laag" in answer.text
