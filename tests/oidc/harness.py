"""A real OpenID provider for the tests: Node's certified ``oidc-provider`` (provider.mjs)
on a loopback port, its signing keys made and held here so a test can also sign a token
with them (an expired one, one for another audience), rotate them, and log a subject in
through the provider's own login form, as a script or in Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import RSAKey

from adapters.settings import Settings
from tests.conftest import missing_part
from tests.serving import free_port, serving  # noqa: F401  (used by the SSO tests, as before)

HERE = Path(__file__).parent
SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"
CALLBACK = "/login/oidc/callback"


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(
        2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"}, private=True
    )


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass
class OidcProvider:
    """The running provider: its issuer, keys (first one signs) and a way to rotate them."""

    issuer: str
    keys_path: Path
    keys: list[RSAKey] = field(default_factory=list)

    def write_keys(self) -> None:
        self.keys_path.write_text(
            json.dumps({"keys": [k.as_dict(private=True) for k in self.keys]})
        )

    def discovery(self) -> dict[str, Any]:
        found: dict[str, Any] = requests.get(
            f"{self.issuer}/.well-known/openid-configuration", timeout=5
        ).json()
        return found

    def rotate(self) -> RSAKey:
        """A new signing key; the old one is still published after it, as in a real roll."""
        key = new_key(f"key-{generate_token(8)}")
        self.keys.insert(0, key)
        self.write_keys()
        requests.post(f"{self.issuer}/__test/rotate", timeout=5).raise_for_status()
        return key

    def register(self, redirect_uri: str) -> Client:
        """A confidential client (RFC 7591 dynamic registration), as a manager registers
        Kringloop at Entra ID or Keycloak."""
        answer = requests.post(
            self.discovery()["registration_endpoint"],
            json={
                "redirect_uris": [redirect_uri],
                "token_endpoint_auth_method": "client_secret_basic",
            },
            timeout=5,
        )
        answer.raise_for_status()
        body = answer.json()
        return Client(body["client_id"], body["client_secret"], redirect_uri)

    def sign(
        self, claims: dict[str, Any], key: RSAKey | None = None, kid: str | None = None
    ) -> str:
        """A JWT signed with the provider's own (current) key, claims as given."""
        key = key or self.keys[0]
        header = {"alg": "RS256", "kid": kid or key.kid}
        return jwt.encode(header, claims, key)

    def claims(self, client: Client, subject: str, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": self.issuer,
            "sub": subject,
            "aud": client.client_id,
            "iat": now,
            "exp": now + 300,
            **changes,
        }

    def login_at_provider(
        self,
        browser: requests.Session,
        authorization_url: str,
        subject: str,
        acr: str = SUBSTANTIAL,
    ) -> str:
        """Follow the authorization request through the provider's login form as ``subject``;
        return the URL the provider sends the browser back to (not followed)."""
        answer = browser.get(authorization_url, allow_redirects=False, timeout=5)
        while answer.status_code in (302, 303):
            target = urljoin(answer.url, answer.headers["location"])
            if not target.startswith(self.issuer):
                return target
            answer = browser.get(target, allow_redirects=False, timeout=5)
            if "/interaction/" in target and answer.status_code == 200:
                uid = re.search(r"/interaction/([^/\"]+)/login", answer.text)
                assert uid, answer.text
                answer = browser.post(
                    f"{self.issuer}/interaction/{uid.group(1)}/login",
                    data={"subject": subject, "acr": acr},
                    allow_redirects=False,
                    timeout=5,
                )
        shown = re.sub(r"<[^>]+>", " ", answer.text)[-800:]
        raise AssertionError(f"the provider did not send the browser back: {shown}")

    def tokens(self, client: Client, subject: str) -> dict[str, Any]:
        """The tokens a client gets for ``subject`` by the code flow with PKCE (an access
        token for the API, a JWT whose audience is the client)."""
        oauth = OAuth2Session(
            client.client_id,
            client.client_secret,
            scope="openid api",
            redirect_uri=client.redirect_uri,
            code_challenge_method="S256",
        )
        verifier = generate_token(64)
        url, state = oauth.create_authorization_url(
            self.discovery()["authorization_endpoint"],
            code_verifier=verifier,
            nonce="n-0",
            acr_values=SUBSTANTIAL,
        )
        back = self.login_at_provider(requests.Session(), url, subject)
        assert parse_qs(urlsplit(back).query)["state"] == [state]
        found: dict[str, Any] = oauth.fetch_token(
            self.discovery()["token_endpoint"], authorization_response=back, code_verifier=verifier
        )
        return found


@contextmanager
def running_provider(workdir: Path) -> Iterator[OidcProvider]:
    node = shutil.which("node")
    if node is None:
        missing_part("no node on PATH (apt-get install -y nodejs npm)")
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        missing_part("tests/oidc has no node_modules (npm ci --prefix tests/oidc)")
    port = free_port()
    provider = OidcProvider(f"http://127.0.0.1:{port}", workdir / "provider-keys.json")
    provider.keys.append(new_key("key-0"))
    provider.write_keys()
    log = (workdir / "provider.log").open("w")
    process = subprocess.Popen(
        [str(node), str(HERE / "provider.mjs"), str(port)],
        env={**os.environ, "OIDC_KEYS_FILE": str(provider.keys_path)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if provider.discovery().get("issuer") == provider.issuer:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(
                    f"oidc-provider did not start: {(workdir / 'provider.log').read_text()}"
                )
            time.sleep(0.1)
        yield provider
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """One provider for the test session (started with ``node tests/oidc/provider.mjs``)."""
    with running_provider(tmp_path_factory.mktemp("oidc-provider")) as provider:
        yield provider


def sso_settings(home: Path, provider: OidcProvider, client: Client, **more: Any) -> Settings:
    return Settings(
        home=home,
        oidc_issuer=provider.issuer,
        oidc_client_id=client.client_id,
        oidc_client_secret=client.client_secret,
        oidc_redirect_url=client.redirect_uri,
        oidc_provider_name="Test provider",
        **more,
    )
