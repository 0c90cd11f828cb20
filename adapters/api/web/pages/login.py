"""Logging in and out with a token (single sign-on is in adapters.api.web.sso)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.accounts.users import user_by_token
from adapters.api.auth import client_key, throttle
from adapters.api.throttle import retry_after
from adapters.api.web.pages.common import backend, page_translator, render
from adapters.api.web.session import (
    csrf_ok,
    end_session,
    log,
    safe_next,
    start_session,
)

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_page(request: Request, next: str = "/pipeline") -> HTMLResponse:
    return render(request, "login.html", None, next=next)


@router.post("/login")
def login(
    request: Request,
    token: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/pipeline",
) -> Response:
    client = request.client.host if request.client else None
    t = page_translator(request)
    key, guard = client_key(request, "login"), throttle(request)
    valid = user_by_token(backend(request).read_store.engine, token.strip()) is not None
    wait = 0.0 if valid else guard.wait(key)  # only failures wait (adapters.api.throttle)
    if wait:
        log.warning("login throttled", client=client, retry_after=retry_after(wait))
        page = render(
            request,
            "login.html",
            None,
            429,
            next=next,
            error=t.gettext("Too many failed logins: try again in %(seconds)s seconds.")
            % {"seconds": retry_after(wait)},
        )
        page.headers["Retry-After"] = retry_after(wait)
        return page
    if not csrf_ok(request, csrf_token):
        expired = t.gettext("The form has expired: log in again.")
        return render(request, "login.html", None, 403, next=next, error=expired)
    user = user_by_token(backend(request).read_store.engine, token.strip())
    if user is None:
        guard.failed(key)
        log.warning("login refused", client=client)
        unknown = t.gettext("This token is unknown or has been revoked.")
        return render(request, "login.html", None, 401, next=next, error=unknown)
    guard.succeeded(key)
    start_session(request, user)
    log.info("logged in", user=user.name, role=user.role)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    if not csrf_ok(request, csrf_token):
        expired = page_translator(request).gettext("The form has expired: reload the page.")
        return render(request, "error.html", None, 403, message=expired)
    end_session(request)
    log.info("logged out")
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def home() -> Response:
    return RedirectResponse("/pipeline", status_code=303)
