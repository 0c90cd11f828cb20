"""Organisations: the list (municipalities, provinces, companies, knowledge institutes, by
kind) and each organisation's page: its commitment and path, its spend per year and
category against its milestones, its communities and consortia, and the procurement forms
the record authorises (a manager for any organisation; an organisation's own user on its
own page only; the engine checks either way)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from adapters import tabular
from adapters.accounts.users import Role
from adapters.api.auth import Principal
from adapters.api.backend import Backend
from adapters.api.downloads import FormatQuery, download
from adapters.api.web.forms import figure
from adapters.api.web.pages.common import backend, page_language, page_translator, render
from adapters.api.web.pages.deciding import (
    Refusal,
    decide_from_form,
    role_refusal,
    submitted,
)
from adapters.api.web.session import WebUser
from adapters.i18n import glossary
from domain.engine import today_in_programme_tz
from domain.messages import N_
from domain.values import AuthorityRole
from projections import organisations
from projections.organisations import OrganisationDetail
from projections.tables import ProgrammeRow

router = APIRouter(include_in_schema=False)

COMMANDS = ("commit", "adopt-category", "report-spend")
NOT_FOUND = N_("No organisation {id} is known.")
ALREADY_COMMITTED = N_("The organisation has already committed in this programme.")
PATH_STEPS = 3  # dated milestones on the commit form; a last share without a year is the goal


def programme_ids(current: Backend) -> list[str]:
    with Session(current.current_reads().engine) as db:
        return list(
            db.exec(select(ProgrammeRow.programme_id).order_by(col(ProgrammeRow.programme_id)))
        )


def members(current: Backend) -> dict[str, str]:
    """The programmes' member organisations and their kinds (the programme record keeps the
    list; the read models count it only)."""
    found: dict[str, str] = {}
    for programme_id in programme_ids(current):
        found.update(current.engine.programme(programme_id).members)
    return found


def speaks_for(current: Backend, who: Principal, organisation: str) -> bool:
    """Whether the user may take the organisation's procurement decisions today: any
    manager, or the organisation's own user (its role in the authority register)."""
    if who.role == Role.MANAGER:
        return True
    if who.role != Role.ORGANISATION:
        return False
    register = current.engine.register()
    day = today_in_programme_tz()
    return bool(
        register and register.grant_of(who.name, AuthorityRole.ORGANISATION, day, organisation)
    )


@router.get("/organisations")
def organisations_page(
    request: Request, who: WebUser, export_format: FormatQuery = None
) -> Response:
    current = backend(request)
    found = organisations.organisations(current.current_reads(), members(current))
    if export_format:
        return download(
            request, tabular.organisations(found), export_format, page_language(request, who)
        )
    kinds: dict[str, list[Any]] = {}
    for summary in found:
        kinds.setdefault(summary.kind, []).append(summary)
    return render(request, "organisations.html", who, kinds=kinds, total=len(found))


def organisation_context(
    current: Backend, who: Principal, organisation_id: str
) -> dict[str, Any] | None:
    detail = organisations.organisation(current.current_reads(), organisation_id, members(current))
    if detail is None:
        return None
    may_decide = speaks_for(current, who, detail.name)
    forms = [c for c in COMMANDS if may_decide and (c == "commit") == (not detail.commitments)]
    categories = list(glossary().get("category", {}))
    return {
        "o": detail,
        "forms": forms,
        "programmes": programme_ids(current),
        "categories": categories,
        "path_steps": range(1, PATH_STEPS + 1),
        "years": sorted({y.year for c in detail.commitments for y in c.years}),
        "this_year": today_in_programme_tz().year,
    }


@router.get("/organisations/{organisation_id}")
def organisation_page(
    request: Request,
    who: WebUser,
    organisation_id: str,
    done: str | None = None,
    export_format: FormatQuery = None,
    table: Literal["spend", "years"] = "spend",
) -> Response:
    current = backend(request)
    context = organisation_context(current, who, organisation_id)
    if context is None:
        return _not_found(request, who, organisation_id)
    if export_format:
        detail: OrganisationDetail = context["o"]
        export = (
            tabular.organisation_spend(detail)
            if table == "spend"
            else tabular.organisation_years(detail)
        )
        return download(request, export, export_format, page_language(request, who))
    return render(
        request,
        "organisation.html",
        who,
        done=done if done in COMMANDS else None,
        refusal=None,
        **context,
    )


@router.post("/organisations/{organisation_id}/commands/{command}")
async def organisation_command(
    request: Request, who: WebUser, organisation_id: str, command: str
) -> Response:
    if denied := role_refusal(request, who, command, {"commitment"}):
        return denied
    current = backend(request)
    context = await run_in_threadpool(organisation_context, current, who, organisation_id)
    if context is None:
        return _not_found(request, who, organisation_id)
    detail: OrganisationDetail = context["o"]
    form = submitted(await request.form())
    lang = page_translator(request, who).lang
    fixed: dict[str, Any] = {}
    if command == "commit":
        fixed = {
            "organisation": detail.name,
            "organisation_kind": detail.kind,
            "commitment_id": detail.organisation_id,
            "path": _path(form, lang),
        }
        if len(context["programmes"]) == 1:
            fixed["programme_id"] = context["programmes"][0]
    elif detail.commitments:
        own = [c.commitment_id for c in detail.commitments]
        chosen = form.get("commitment_id")
        fixed["commitment_id"] = chosen if chosen in own else own[0]
    programme = fixed.get("programme_id") or form.get("programme_id")
    if command == "commit" and programme in {c.programme_id for c in detail.commitments}:
        # sent from a page opened before it committed: one commitment per programme
        message = page_translator(request, who).gettext(ALREADY_COMMITTED)
        values = {k: v for k, v in form.items() if k != "csrf_token"}
        refusal: Refusal | None = Refusal(command, message, 409, values=values)
    else:
        refusal = await decide_from_form(request, who, command, {"commitment"}, fixed)
    return await answered(
        request,
        who,
        refusal,
        f"/organisations/{organisation_id}?done={command}",
        "organisation.html",
        partial(organisation_context, current, who, organisation_id),
        partial(_not_found, request, who, organisation_id),
    )


async def answered(
    request: Request,
    who: Principal,
    refusal: Refusal | None,
    done: str,
    template: str,
    context: Callable[[], dict[str, Any] | None],
    gone: Callable[[], Response],
) -> Response:
    """A record's page after one of its forms: on to ``done`` when the decision was recorded
    (see other: a reload does not post again), else the page again as the record is now, with
    the refusal; ``gone`` when the record is gone meanwhile."""
    if refusal is None:
        return RedirectResponse(done, status_code=303)
    found = await run_in_threadpool(context)
    if found is None:
        return gone()
    return render(request, template, who, refusal.status, refusal=refusal, done=None, **found)


def _path(form: dict[str, str], lang: str) -> list[dict[str, Any]]:
    """The commit form's milestones (a year and a share each) and its open goal."""
    path: list[dict[str, Any]] = []
    for n in range(1, PATH_STEPS + 1):
        year, share = form.get(f"path-{n}-year", "").strip(), form.get(f"path-{n}-share", "")
        if year or share.strip():
            path.append({"year": year or None, "share": figure(share, lang)})
    goal = form.get("path-goal", "").strip()
    if goal:
        path.append({"share": figure(goal, lang)})
    return path


def _not_found(request: Request, who: Principal, organisation_id: str) -> Response:
    return not_found(request, who, NOT_FOUND, organisation_id)


def not_found(request: Request, who: Principal, message_id: str, record_id: str) -> Response:
    """The error page for a record the address names and the record does not know
    (``message_id`` with {id})."""
    message = page_translator(request, who).gettext(message_id).format(id=record_id)
    return render(request, "error.html", who, 404, message=message)
