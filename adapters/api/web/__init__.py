"""Server-rendered pages (Jinja2) with a signed session cookie and a CSRF token per session."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from adapters.api.backend import Backend
from adapters.api.web.session import (
    LoginRequired,
    SessionCookies,
    redirect_to_login,
    session_secret,
)

STATIC = Path(__file__).parent / "static"


def mount_web(app: FastAPI, backend: Backend) -> None:
    from adapters.api.web import pages, sso

    app.add_middleware(
        SessionCookies,
        secret_key=session_secret(backend.settings.home),
        session_cookie="kringloop_session",
        max_age=8 * 3600,
        same_site="strict",
    )
    app.add_exception_handler(LoginRequired, redirect_to_login)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(pages.router)
    app.include_router(sso.router)
