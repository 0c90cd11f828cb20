"""Logging in to the pages: a token becomes a signed, HttpOnly, SameSite=Strict session
(Secure when served over https); every form carries the session's CSRF token."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.api.auth import Principal
from adapters.api.users import Role, active_user
from adapters.logs import get_logger

log = get_logger("kringloop.web")
SESSION_KEY_FILE = "web-session.key"  # the key that signs cookies, not a secret itself


class SessionCookies:
    """The signed session cookie, marked Secure when the request came over https (behind a
    TLS proxy: run uvicorn with --proxy-headers and --forwarded-allow-ips so the scheme is
    the client's), and without Secure on plain http, where the browser would drop it."""

    def __init__(self, app: ASGIApp, **options: Any) -> None:
        self.plain = SessionMiddleware(app, https_only=False, **options)
        self.secure = SessionMiddleware(app, https_only=True, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chosen = self.secure if scope.get("scheme") in ("https", "wss") else self.plain
        await chosen(scope, receive, send)


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
    """No session, or its user was revoked: send the browser to the login page."""


def session_secret(home: Path) -> str:
    """The key that signs session cookies, kept in the data folder (readable by owner only)."""
    path = home / SESSION_KEY_FILE
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


async def redirect_to_login(request: Request, _: Exception) -> Response:
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def csrf_ok(request: Request, submitted: str | None) -> bool:
    expected = request.session.get("csrf")
    ok = bool(expected and submitted and hmac.compare_digest(str(expected), submitted))
    if not ok:
        log.warning("csrf refused", path=request.url.path, user=request.session.get("user"))
    return ok


def web_principal(request: Request) -> Principal:
    name = request.session.get("user")
    user = active_user(request.app.state.backend.read_store.engine, name) if name else None
    if user is None:
        request.session.pop("user", None)
        raise LoginRequired
    return Principal(user.name, Role(user.role))


WebUser = Annotated[Principal, Depends(web_principal)]
