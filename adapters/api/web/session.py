"""Logging in to the pages: a token becomes a signed, HttpOnly, SameSite=Strict session;
every form carries the session's CSRF token."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from adapters.api.auth import Principal
from adapters.api.users import Role, active_user
from adapters.logs import get_logger

log = get_logger("kringloop.web")
SESSION_KEY_FILE = "web-session.key"  # the key that signs cookies, not a secret itself


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
