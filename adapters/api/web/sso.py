"""Logging in to the pages through the organisation's OpenID provider (single sign-on).

``GET /login/oidc`` sends the browser to the provider with the authorization code flow:
a fresh ``state``, ``nonce`` and PKCE verifier (S256) each time, kept in a short-lived
signed cookie of their own (SameSite=Lax: the provider's redirect back is a cross-site
navigation, on which a Strict cookie would not come along). ``GET /login/oidc/callback``
checks the state (and the ``iss`` of RFC 9207 when the provider sends it), trades the code
for tokens once (the cookie is spent whatever happens), checks the ID token
(``adapters.api.oidc``: signature by a published key, issuer, audience, expiry with the
allowed skew, the nonce, the assurance level when one is required), and finds the
Kringloop user a manager linked to the subject. A subject nobody linked gets a clear page,
never an account.

The session then opened is bound to the link (``open_web_session``), and the callback answers
with a short "continue" page rather than a redirect: the session cookie is SameSite=Strict,
and a browser does not send it on a redirect that a cross-site navigation started.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from adapters.accounts import sessions
from adapters.accounts.oidc_links import OidcLinkRow, linked_user, record_login
from adapters.accounts.users import UserRow
from adapters.api.oidc import Provider, ProviderUnavailable, TokenRefused, provider_of
from adapters.api.web import session as web
from adapters.api.web.pages.common import page_translator
from adapters.api.web.session import log, safe_next

router = APIRouter(include_in_schema=False)
PENDING_COOKIE = "kringloop_oidc"
PENDING_PATH = "/login/oidc"
PENDING_SECONDS = 600  # a login not finished within ten minutes starts again
KEY_FILE = "oidc-login.key"  # signs the pending-login cookie


def _key(home: Path) -> str:
    """The key in the data folder, made by whichever worker needs it first: written whole
    under a name of its own, then linked into place (an atomic step that fails if another
    worker's key got there first), so no worker ever reads half a key."""
    path = home / KEY_FILE
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        draft = home / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def _signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        _key(request.app.state.backend.settings.home), salt="kringloop-oidc-login"
    )


def _page(request: Request, status: int, title: str, message: str, **extra: Any) -> Response:
    from adapters.api.web.pages import render

    response = render(request, "sso.html", None, status, title=title, message=message, **extra)
    _forget_pending(request, response)
    return response


def _unreachable(request: Request, error: ProviderUnavailable) -> Response:
    t = page_translator(request)
    message = t.gettext("%(error)s. Try again later.") % {"error": error}
    return _page(request, 503, t.gettext("Identity provider unreachable"), message)


def _forget_pending(request: Request, response: Response) -> None:
    response.delete_cookie(
        PENDING_COOKIE,
        path=PENDING_PATH,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )


def _session(provider: Provider) -> OAuth2Session:
    config = provider.config
    return OAuth2Session(
        client_id=config.client_id,
        client_secret=config.client_secret,
        scope="openid",
        redirect_uri=config.redirect_url,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic" if config.client_secret else "none",
    )


def _configured(request: Request) -> Provider | Response:
    provider = provider_of(request.app)
    if provider is None:  # single sign-on is off: the token login is the way in
        return RedirectResponse("/login", status_code=303)
    return provider


@router.get("/login/oidc")
def start(request: Request, next: str = "/pipeline") -> Response:
    """Send the browser to the provider, with state, nonce and a PKCE challenge."""
    provider = _configured(request)
    if isinstance(provider, Response):
        return provider
    try:
        endpoint = provider.discovery()["authorization_endpoint"]
    except ProviderUnavailable as error:
        log.error("identity provider unavailable", detail=str(error))
        return _unreachable(request, error)
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
    levels = provider.config.acr_values
    extra = {"acr_values": " ".join(levels)} if levels else {}
    url, _ = _session(provider).create_authorization_url(
        endpoint, state=state, code_verifier=verifier, nonce=nonce, **extra
    )
    response = RedirectResponse(url, status_code=303)
    pending = {"state": state, "nonce": nonce, "verifier": verifier, "next": safe_next(next)}
    response.set_cookie(
        PENDING_COOKIE,
        _signer(request).dumps(pending),
        max_age=PENDING_SECONDS,
        path=PENDING_PATH,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
    return response


def _pending(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(PENDING_COOKIE)
    if not raw:
        return None
    try:
        found = _signer(request).loads(raw, max_age=PENDING_SECONDS)
    except BadSignature:
        return None
    return found if isinstance(found, dict) else None


@router.get("/login/oidc/callback")
def callback(request: Request) -> Response:
    """Finish the login the provider sends back; every refusal says why, and is logged."""
    provider = _configured(request)
    if isinstance(provider, Response):
        return provider
    params = request.query_params
    client = request.client.host if request.client else None
    t = page_translator(request)
    refused = t.gettext("Login refused")

    restart = t.gettext("Start again from the login page.")

    def again(message: str) -> str:
        return f"{message} {restart}"

    pending = _pending(request)
    if pending is None:
        log.warning("sso refused", reason="no pending login", client=client)
        return _page(
            request,
            400,
            t.gettext("Login expired"),
            again(t.gettext("This login has expired or was started in another browser.")),
        )
    if not hmac.compare_digest(params.get("state", ""), pending["state"]):
        log.warning("sso refused", reason="state mismatch", client=client)
        return _page(request, 400, refused, again(t.gettext("The login's state does not match.")))
    if "iss" in params and params["iss"] != provider.config.issuer:
        log.warning("sso refused", reason="wrong iss", iss=params["iss"], client=client)
        message = again(t.gettext("The answer came from another identity provider."))
        return _page(request, 400, refused, message)
    if "error" in params:
        log.warning("sso refused", reason="provider error", error=params["error"], client=client)
        return _page(
            request,
            401,
            refused,
            again(
                t.gettext("The identity provider refused the login (%(error)s).")
                % {"error": params["error"]}
            ),
        )
    try:
        tokens = _session(provider).fetch_token(
            provider.discovery()["token_endpoint"],
            grant_type="authorization_code",
            code=params.get("code", ""),
            code_verifier=pending["verifier"],
        )
    except OAuthError as error:
        log.warning("sso refused", reason="code refused", error=error.error, client=client)
        return _page(
            request,
            401,
            refused,
            again(
                t.gettext(
                    "The identity provider did not accept this login's code: it was used "
                    "already or has expired (%(error)s)."
                )
                % {"error": error.error}
            ),
        )
    except ProviderUnavailable as error:
        log.error("identity provider unavailable", detail=str(error))
        return _unreachable(request, error)
    try:
        claims = provider.verify(
            str(tokens.get("id_token", "")),
            audience=provider.config.client_id,
            nonce=pending["nonce"],
            id_token=True,
        )
    except (TokenRefused, ProviderUnavailable) as error:
        log.warning("sso refused", reason="id token refused", detail=str(error), client=client)
        message = again(t.gettext("The ID token was refused: %(error)s.") % {"error": error})
        return _page(request, 401, refused, message)
    acr = claims.get("acr")
    wanted = provider.config.acr_values
    if wanted and acr not in wanted:
        log.warning("sso refused", reason="acr too low", acr=acr, wanted=wanted, client=client)
        return _page(
            request,
            403,
            t.gettext("Assurance level too low"),
            t.gettext(
                "This login's assurance level (%(acr)s) is not one this Kringloop accepts "
                "(%(wanted)s)."
            )
            % {"acr": acr or t.gettext("none"), "wanted": ", ".join(wanted)},
        )
    found = linked_user(request.app.state.backend.read_store.engine, claims["iss"], claims["sub"])
    if found is None:
        log.warning("sso unlinked subject", issuer=claims["iss"], subject=claims["sub"], acr=acr)
        return _page(
            request,
            403,
            t.gettext("Not linked to Kringloop"),
            t.gettext(
                "Your identity provider knows you, but no Kringloop user is linked to your "
                "account yet. Ask a Kringloop manager to link it; they need the two lines below."
            ),
            issuer=claims["iss"],
            subject=claims["sub"],
        )
    user, link = found
    open_web_session(request, user, link, acr)
    record_login(request.app.state.backend.read_store.engine, link, acr)
    log.info("logged in", user=user.name, role=user.role, via="oidc", acr=acr, link=link.id)
    target = safe_next(pending.get("next", "/pipeline"))
    welcome = t.gettext("Logged in as %(name)s.") % {"name": user.name}
    return _page(request, 200, t.gettext("Logged in"), welcome, continue_to=target)


def open_web_session(request: Request, user: UserRow, link: OidcLinkRow, acr: str | None) -> None:
    """The one place single sign-on opens a web session: on the server
    (``adapters.accounts.sessions``), bound to the link that let the user in, so unlinking the
    subject (or revoking the user) ends it. The login's assurance level (acr) is logged and
    kept on the link (``users links``)."""
    engine = request.app.state.backend.read_store.engine
    if old := request.cookies.get(web.COOKIE):
        sessions.end_session(engine, old)
    lifetimes: sessions.Lifetimes = request.app.state.session_lifetimes
    session_id = sessions.open_session(
        engine, user.name, link.credential_id, request.app.state.session_clock(), lifetimes
    )
    web.set_cookie(request, web.COOKIE, session_id, int(lifetimes.absolute.total_seconds()))
