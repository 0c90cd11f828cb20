"""Logging in to the pages: a token opens a session on the server (``adapters.accounts.sessions``)
and the browser gets an HttpOnly, SameSite=Strict cookie holding only the session's random
id (Secure when served over https). Every form carries the session's CSRF token; before
login, the login form's token comes from a random nonce in a cookie of its own."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.accounts import sessions
from adapters.accounts.users import UserRow, active_user, credential_id
from adapters.api.auth import Principal, request_principal
from adapters.logs import get_logger

log = get_logger("kringloop.web")
COOKIE = "kringloop_session"  # the session's id, nothing else
LOGIN_COOKIE = "kringloop_login"  # a nonce behind the login form's CSRF token
_PENDING = "kringloop.set_cookie"  # the Set-Cookie lines this request's response carries
_NONCE = "kringloop.login_nonce"


class SessionCookies:
    """Adds the cookies a request asked for (``set_cookie``) to its response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pending: list[str] = []
        scope[_PENDING] = pending

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for line in pending:
                    headers.append("set-cookie", line)
            await send(message)

        await self.app(scope, receive, sending)


def set_cookie(request: Request, name: str, value: str, max_age: int | None = None) -> None:
    """HttpOnly, SameSite=Strict, and Secure when the request came over https (behind a TLS
    proxy: run uvicorn with --proxy-headers and --forwarded-allow-ips so the scheme is the
    client's); not Secure on plain http, where the browser would drop it."""
    parts = [f"{name}={value}", "HttpOnly", "Path=/", "SameSite=Strict"]
    if max_age is not None:
        parts.insert(1, f"Max-Age={max_age}")
    if request.url.scheme in ("https", "wss"):
        parts.append("Secure")
    request.scope[_PENDING].append("; ".join(parts))


def forget_cookie(request: Request, name: str) -> None:
    set_cookie(request, name, "", max_age=0)


def safe_next(target: str) -> str:
    """Where to go after logging in: a path on this site, never another site (``//host``
    and ``/\\host`` are other sites to a browser)."""
    parts = urlsplit(target)
    if (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not parts.scheme
        and not parts.netloc
        and target.isprintable()
    ):
        return target
    return "/pipeline"


class LoginRequired(Exception):
    """No live session, or its user or credential was revoked: send the browser to login."""


async def redirect_to_login(request: Request, _: Exception) -> Response:
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


def _clock(request: Request) -> datetime:
    clock: Callable[[], datetime] = request.app.state.session_clock
    return clock()


def _lifetimes(request: Request) -> sessions.Lifetimes:
    found: sessions.Lifetimes = request.app.state.session_lifetimes
    return found


def _engine(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.backend.read_store.engine


def csrf_token(request: Request) -> str:
    """The session's CSRF token; without a session cookie, the login form's (from a nonce
    cookie, set now if the browser has none)."""
    session_id = request.cookies.get(COOKIE)
    if session_id:
        return sessions.csrf_for(session_id)
    nonce = request.scope.get(_NONCE) or request.cookies.get(LOGIN_COOKIE)
    if not nonce:
        nonce = secrets.token_urlsafe(32)
        request.scope[_NONCE] = nonce
        set_cookie(request, LOGIN_COOKIE, nonce)
    return sessions.csrf_for(nonce)


def csrf_ok(request: Request, submitted: str | None) -> bool:
    anchor = request.cookies.get(COOKIE) or request.cookies.get(LOGIN_COOKIE)
    expected = sessions.csrf_for(anchor) if anchor else None
    ok = bool(expected and submitted and hmac.compare_digest(expected, submitted))
    if not ok:
        log.warning("csrf refused", path=request.url.path)
    return ok


def start_session(request: Request, user: UserRow) -> None:
    """Log in: end the session this browser had, open one bound to the user's token."""
    engine = _engine(request)
    if old := request.cookies.get(COOKIE):
        sessions.end_session(engine, old)
    lifetimes = _lifetimes(request)
    session_id = sessions.open_session(
        engine, user.name, credential_id(user), _clock(request), lifetimes
    )
    set_cookie(request, COOKIE, session_id, int(lifetimes.absolute.total_seconds()))


def end_session(request: Request) -> None:
    """Log out: the session ends on the server, so a copy of the cookie opens nothing."""
    if session_id := request.cookies.get(COOKIE):
        sessions.end_session(_engine(request), session_id)
    forget_cookie(request, COOKIE)


def web_principal(request: Request) -> Principal:
    session_id = request.cookies.get(COOKIE)
    engine = _engine(request)
    found = (
        sessions.session_for(engine, session_id, _clock(request), _lifetimes(request))
        if session_id
        else None
    )
    user = active_user(engine, found.user_name) if found else None
    if user is None:
        if session_id:
            forget_cookie(request, COOKIE)
        raise LoginRequired
    return request_principal(request, user)


WebUser = Annotated[Principal, Depends(web_principal)]
