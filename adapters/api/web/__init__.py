"""Server-rendered pages (Jinja2), with sessions on the server and a CSRF token per session."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from adapters.accounts.sessions import Lifetimes, utc_now
from adapters.api.backend import Backend
from adapters.api.web.session import LoginRequired, SessionCookies, redirect_to_login

STATIC = Path(__file__).parent / "static"


def mount_web(app: FastAPI, backend: Backend) -> None:
    from adapters.api.web import pages, sso

    settings = backend.settings
    app.state.session_lifetimes = Lifetimes(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_max_hours),
    )
    app.state.session_clock = utc_now  # wall time: sessions are shared by every worker
    app.add_middleware(SessionCookies)
    app.add_exception_handler(LoginRequired, redirect_to_login)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(pages.router)
    app.include_router(sso.router)
