"""What every page shares: the templates, the backend, the page's language, and render().

The language of a page: ``?lang=nl|en`` when a person picks one on the switch (remembered in a
cookie and, when logged in, for the user on the server), else the cookie, else the user's
remembered choice, else the browser's ``Accept-Language``; Dutch when none of them says."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from adapters.accounts import preferences
from adapters.api.auth import Principal
from adapters.api.backend import Backend
from adapters.api.conditional import conditional, read_position
from adapters.api.web.session import WebUser, csrf_token, set_cookie
from adapters.i18n import PSEUDO, Translator, choices, chosen, negotiate, translator
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


# -- the templates' words and figures, in the page's language ----------------------------


def _t(context: Context) -> Translator:
    found: Translator = context["t"]
    return found


@pass_context
def _gettext(context: Context, message: str) -> str:
    return _t(context).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return _t(context).ngettext(singular, plural, n)


def _figure(method: str) -> Callable[..., str]:
    """A filter that formats its value with the page's translator: ``{{ x|number }}``,
    ``{{ d|day }}``, ``{{ pct|percent(1) }}`` (the arguments after the value pass on)."""

    @pass_context
    def formatted(context: Context, value: Any, *args: Any) -> str:
        result: str = getattr(_t(context), method)(value, *args)
        return result

    return formatted


@pass_context
def _term(context: Context, value: Any, kind: str) -> str:
    return _t(context).term(kind, value)


templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    _gettext, _ngettext, newstyle=True
)
templates.env.filters.update(
    {name: _figure(name) for name in ("day", "moment", "number", "money", "percent")},
    term=_term,
)
templates.env.globals["today"] = today_in_programme_tz  # the printed page's date line (base.html)
