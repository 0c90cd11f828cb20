"""Single sign-on with OpenID Connect: the provider's discovery document and signing keys,
and the checks every token from the provider passes (ID tokens at the web login, access
tokens at the API).

A token is accepted only when it is a JWS signed with an asymmetric algorithm (RS256, PS256
or ES256: never ``none``, never a shared-secret HMAC) by a key the provider publishes at its
``jwks_uri``, names that key by ``kid``, comes from the configured issuer, is meant for us
(``aud``), and is inside its lifetime give or take the allowed clock skew. A ``kid`` that is
not in the cached key set makes us fetch the set again once (the provider rolled its keys);
a ``kid`` still unknown after that is refused. The key set is also fetched again when it is
an hour old, so a key the provider withdrew stops working within the hour.

Every refusal is a ``TokenRefused`` whose text says which check failed, never the token.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import Key, KeySet

from adapters.settings import Settings

ALGORITHMS = ("RS256", "PS256", "ES256")
KEYS_MAX_AGE = 3600.0  # seconds a fetched key set is trusted before it is fetched again
REFETCH_AFTER = 5.0  # unknown kids fetch the set again at most this often (no fetch storm)
HTTP_TIMEOUT = 5.0
JWT_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


class TokenRefused(Exception):
    """A token from the provider that fails a check; the text says which."""


class ProviderUnavailable(Exception):
    """The provider's discovery document or key set cannot be read now."""


def looks_like_jwt(token: str) -> bool:
    """A provider's JWT (three base64url parts) rather than one of our own ``kl_`` tokens."""
    return not token.startswith("kl_") and JWT_SHAPE.match(token) is not None


@dataclass(frozen=True)
class OidcConfig:
    """What Kringloop knows of its OpenID provider (see Settings' ``oidc_*`` fields)."""

    issuer: str
    client_id: str
    client_secret: str | None
    redirect_url: str
    clock_skew: int = 60
    audience: str | None = None  # what API access tokens carry as ``aud``: client_id if None
    acr_values: tuple[str, ...] = ()  # asked for at login, and the ID token's acr must be one

    @property
    def api_audience(self) -> str:
        return self.audience or self.client_id

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcConfig | None:
        if not settings.oidc_issuer:
            return None
        secret = settings.oidc_client_secret
        text = secret.get_secret_value() if secret else None
        if settings.oidc_client_secret_file is not None:
            text = settings.oidc_client_secret_file.read_text().strip()
        if not (settings.oidc_client_id and settings.oidc_redirect_url):
            raise ValueError("an OpenID issuer needs a client id and a redirect URL")
        return cls(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=text or None,
            redirect_url=settings.oidc_redirect_url,
            clock_skew=settings.oidc_clock_skew,
            audience=settings.oidc_audience,
            acr_values=tuple(settings.oidc_acr_values.split()),
        )


class Provider:
    """One OpenID provider: its discovery document (read once) and its keys (cached)."""

    def __init__(
        self,
        config: OidcConfig,
        http: requests.Session | None = None,
        now: Callable[[], float] = time.time,
        refetch_after: float = REFETCH_AFTER,
    ) -> None:
        self.config = config
        self.http = http or requests.Session()
        self.now = now
        self.refetch_after = refetch_after
        self._lock = threading.Lock()
        self._discovery: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._keys_at = 0.0
        self._refetched_at = float("-inf")  # the last fetch an unknown kid caused
        self.key_fetches = 0  # how often the key set was fetched (tests read it)

    # -- what the provider publishes -------------------------------------------------

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = self.http.get(url, timeout=HTTP_TIMEOUT)
            response.raise_for_status()
            found = response.json()
        except (requests.RequestException, ValueError) as error:
            raise ProviderUnavailable(
                f"the identity provider's {what} cannot be read ({type(error).__name__})"
            ) from None
        if not isinstance(found, dict):
            raise ProviderUnavailable(f"the identity provider's {what} is not a JSON object")
        return found

    def discovery(self) -> dict[str, Any]:
        """``{issuer}/.well-known/openid-configuration``, whose ``issuer`` must be ours."""
        if self._discovery is None:
            url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            found = self._get_json(url, "discovery document")
            if found.get("issuer") != self.config.issuer:
                raise ProviderUnavailable(
                    f"the discovery document names issuer {found.get('issuer')!r}, "
                    f"not the configured {self.config.issuer!r}"
                )
            missing = {"authorization_endpoint", "token_endpoint", "jwks_uri"} - set(found)
            if missing:
                raise ProviderUnavailable(f"the discovery document lacks {sorted(missing)}")
            self._discovery = found
        return self._discovery

    def _fetch_keys(self) -> KeySet:
        found = self._get_json(self.discovery()["jwks_uri"], "key set (JWKS)")
        try:
            keys = KeySet.import_key_set(found)  # type: ignore[arg-type]
        except (JoseError, KeyError, TypeError, ValueError) as error:
            raise ProviderUnavailable(f"the provider's key set is unusable: {error}") from None
        self._keys, self._keys_at = keys, self.now()
        self.key_fetches += 1
        return keys

    def key_for(self, kid: str) -> Key:
        """The published key named ``kid``; an unknown kid fetches the set again once."""
        with self._lock:
            keys = self._keys
            if keys is None or self.now() - self._keys_at > KEYS_MAX_AGE:
                keys = self._fetch_keys()
            try:
                return keys.get_by_kid(kid)
            except InvalidKeyIdError:
                pass
            if self.now() - self._refetched_at >= self.refetch_after:
                self._refetched_at = self.now()
                keys = self._fetch_keys()
                try:
                    return keys.get_by_kid(kid)
                except InvalidKeyIdError:
                    pass
        raise TokenRefused(f"unknown key id {kid!r}: the provider does not publish it")

    # -- the checks ------------------------------------------------------------------

    def verify(
        self, token: str, audience: str, nonce: str | None = None, id_token: bool = False
    ) -> dict[str, Any]:
        """The token's claims once every check holds, else ``TokenRefused``."""
        if not JWT_SHAPE.match(token):
            raise TokenRefused("not a signed JWT")
        try:
            header = jws.extract_compact(token.encode()).headers()
        except (JoseError, ValueError, TypeError):
            raise TokenRefused("not a signed JWT") from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALGORITHMS:
            raise TokenRefused(f"algorithm {alg!r} is not accepted (only {', '.join(ALGORITHMS)})")
        if not isinstance(kid, str) or not kid:
            raise TokenRefused("the token names no key id (kid)")
        key = self.key_for(kid)
        try:
            claims: dict[str, Any] = jwt.decode(token, key, algorithms=[alg]).claims
        except BadSignatureError:
            raise TokenRefused("the signature does not verify") from None
        except JoseError as error:
            raise TokenRefused(f"the token cannot be read ({error.error})") from None
        self._check_claims(claims, audience, nonce, id_token)
        return claims

    def _check_claims(
        self, claims: Mapping[str, Any], audience: str, nonce: str | None, id_token: bool
    ) -> None:
        essential: dict[str, Any] = {
            "iss": {"essential": True, "value": self.config.issuer},
            "sub": {"essential": True},
            "aud": {"essential": True, "value": audience},
            "exp": {"essential": True},
        }
        if id_token:
            essential["iat"] = {"essential": True}
            essential["nonce"] = {"essential": True, "value": nonce}
        registry = jwt.JWTClaimsRegistry(
            now=int(self.now()), leeway=self.config.clock_skew, **essential
        )
        try:
            registry.validate(dict(claims))
        except ExpiredTokenError:
            raise TokenRefused("the token has expired") from None
        except MissingClaimError as error:
            raise TokenRefused(f"the token lacks the {error.claim} claim") from None
        except InvalidClaimError as error:
            raise TokenRefused(_invalid_claim(error, self.config.issuer, audience)) from None
        if id_token:
            audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
            azp = claims.get("azp")
            if (len(audiences) > 1 or azp is not None) and azp != audience:
                raise TokenRefused(f"the authorized party (azp) is not {audience!r}")


def _invalid_claim(error: InvalidClaimError, issuer: str, audience: str) -> str:
    if error.claim == "aud":
        return f"wrong audience: the token is not meant for {audience!r}"
    if error.claim == "iss":
        return f"wrong issuer: the token is not from {issuer!r}"
    if error.claim == "nonce":
        return "the nonce does not match this login"
    if error.claim == "nbf":
        return "the token is not valid yet"
    if error.claim == "iat":
        return "the token was issued in the future"
    return f"invalid {error.claim!r} claim"


def provider_of(app: Any) -> Provider | None:
    """The app's provider (built from its settings on first use), or None when single
    sign-on is not configured."""
    state = app.state
    try:
        return state.oidc  # type: ignore[no-any-return]
    except AttributeError:
        config = OidcConfig.from_settings(state.backend.settings)
        state.oidc = Provider(config) if config else None
        return state.oidc  # type: ignore[no-any-return]
