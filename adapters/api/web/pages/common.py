"""What every page shares: the templates, the backend, the page's language, and render().

The language of a page: ``?lang=nl|en`` when a person picks one on the switch (remembered in a
cookie and, when logged in, for the user on the server), else the cookie, else the user's
remembered choice, else the browser's ``Accept-Language``; Dutch when none of them says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from adapters.accounts import preferences
from adapters.api.auth import Principal, refused
from adapters.api.backend import Backend
from adapters.api.conditional import conditional, read_position
from adapters.api.web.session import WebUser, csrf_token, set_cookie
from adapters.i18n import PSEUDO, Translator, choices, chosen, negotiate, translator
from adapters.i18n.templating import speak
from domain.engine import today_in_programme_tz
from projections.figures import DEMONSTRATION_NOTE, any_demonstration

templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")
LANGUAGE_COOKIE = "kringloop_lang"
_LANGUAGE = "kringloop.language"
_YEAR = 365 * 24 * 3600


def backend(request: Request) -> Backend:
    result: Backend = request.app.state.backend
    return result


def page_read(request: Request, who: WebUser) -> None:
    """A dependency of the pages: a GET answers conditionally (``adapters.api.conditional``),
    per user, role, session (its forms carry the session's CSRF token) and language; the
    audit page also shows the last verify."""
    if request.method != "GET":
        return
    last = backend(request).last_verify
    conditional(
        request,
        read_position(request),
        who.name,
        who.role.value,
        csrf_token(request),
        page_language(request, who),
        last.get("checked_at") if last else None,
    )


def page_language(request: Request, who: Principal | None = None) -> str:
    """This request's language (see the module's doc), decided once per request."""
    if found := request.scope.get(_LANGUAGE):
        return str(found)
    asked = chosen(request.query_params.get("lang"))
    engine = backend(request).read_store.engine
    if asked:
        set_cookie(request, LANGUAGE_COOKIE, asked, _YEAR)
        if who is not None:
            preferences.remember_language(engine, who.name, asked)
    lang: str = (
        asked
        or chosen(request.cookies.get(LANGUAGE_COOKIE))
        or (chosen(preferences.language_of(engine, who.name)) if who is not None else None)
        or negotiate(request.headers.get("accept-language"))
    )
    if request.query_params.get("lang") == PSEUDO:
        lang = PSEUDO  # marks every translated text (the tests, a translator); never kept
    request.scope[_LANGUAGE] = lang
    return lang


def page_translator(request: Request, who: Principal | None = None) -> Translator:
    return translator(page_language(request, who))


def render(
    request: Request, name: str, who: Principal | None, status: int = 200, **context: Any
) -> HTMLResponse:
    lang = page_language(request, who)
    t = translator(lang)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "who": who,
            "status": status,
            "csrf": csrf_token(request),
            "lang": "nl" if lang == PSEUDO else lang,
            "t": t,
            "languages": choices(lang),
            "demonstration_note": (
                t.gettext(DEMONSTRATION_NOTE)
                if who and any_demonstration(backend(request).read_store)
                else None
            ),
            **context,
        },
        status_code=status,
    )
    response.headers["Content-Language"] = "nl" if lang == PSEUDO else lang
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


def role_forbidden(request: Request, who: Principal, message: str, action: str) -> Response:
    """The 403 page: ``message`` (a message id naming the ``{role}``) in the page's
    language; the refusal logged as "role ... may not ``action``"."""
    refused(request, 403, f"role {who.role.value} may not {action}", who.name)
    t = page_translator(request, who)
    said = t.gettext(message).format(role=t.term("role", who.role.value))
    return render(request, "error.html", who, 403, message=said)


def forbidden(request: Request, who: Principal, message: str) -> Response:
    """The 403 page saying ``message`` (a message id) in the page's language."""
    return render(
        request, "error.html", who, 403, message=page_translator(request, who).gettext(message)
    )


# -- the templates' words and figures, in the page's language ----------------------------

speak(templates.env)
templates.env.globals["today"] = today_in_programme_tz  # the printed page's date line (base.html)
