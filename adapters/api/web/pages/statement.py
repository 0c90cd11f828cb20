"""The accessibility statement (toegankelijkheidsverklaring), in the format of the Dutch
government's model statement (toegankelijkheidsverklaring.nl): who publishes it, what it
covers, its compliance status, how that was checked, the known problems, where to give
feedback, the enforcement procedure and its date. Readable without logging in.

The Besluit digitale toegankelijkheid overheid asks it of every government web application
(EN 301 549, for the web WCAG 2.1 level A and AA). Revise STATEMENT's dates and status when
the checks or an audit change; the body publishing it and its contact address belong to the
body running this installation: set STATEMENT's body and contact before going live (the
contact address below is a placeholder)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from adapters.api.auth import Principal
from adapters.api.web.pages.common import render
from adapters.api.web.session import LoginRequired, web_principal

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Statement:
    body: str  # the public body responsible (a proper name: not translated)
    application: str
    contact: str  # e-mail address for accessibility feedback
    status: str  # "A" (voldoet volledig) ... "E" (geen verklaring); see the template
    drawn_up: date
    reviewed: date


STATEMENT = Statement(
    body="Amsterdam Economic Board",
    application="Kringloop",
    contact="toegankelijkheid@kringloop.example",  # the running body's own address,
    status="B",
    drawn_up=date(2026, 11, 30),
    reviewed=date(2026, 11, 30),
)

OMBUDSMAN = "https://www.nationaleombudsman.nl/klacht-indienen"


def _visitor(request: Request) -> Principal | None:
    """The logged-in user, or None: the statement is public."""
    try:
        return web_principal(request)
    except LoginRequired:
        return None


@router.get("/toegankelijkheid")
def statement_page(request: Request) -> HTMLResponse:
    return render(
        request,
        "toegankelijkheid.html",
        _visitor(request),
        statement=STATEMENT,
        ombudsman=OMBUDSMAN,
    )
