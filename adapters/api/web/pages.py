"""The pages: pipeline board, initiative (with its timeline and forms), programme progress,
procurement roadmap, audit. Reads come from the read models; forms run catalogue commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from adapters import tabular
from adapters.accounts.users import user_by_token
from adapters.api.audit import MAY_AUDIT, export_bundle, run_verify
from adapters.api.auth import Principal, client_key, refused, throttle
from adapters.api.backend import Backend
from adapters.api.commands import run_command
from adapters.api.downloads import FormatQuery, download
from adapters.api.problems import status_for
from adapters.api.throttle import retry_after
from adapters.api.web.forms import form_fields, parse_form
from adapters.api.web.session import (
    WebUser,
    csrf_ok,
    csrf_token,
    end_session,
    log,
    safe_next,
    start_session,
)
from adapters.audit import records
from domain.commands.base import Day
from domain.commands.catalogue import CATALOGUE
from domain.commands.next_steps import next_steps
from domain.engine import today_in_programme_tz
from domain.errors import KringloopError, NotFoundError
from domain.reading import InitiativeState, initiative_state
from projections import procurement, queries
from projections.figures import DEMONSTRATION_NOTE, any_demonstration, share_text
from projections.progress import programme_progress
from projections.tables import ProgrammeRow

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def backend(request: Request) -> Backend:
    result: Backend = request.app.state.backend
    return result


def render(
    request: Request, name: str, who: Principal | None, status: int = 200, **context: Any
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        name,
        {
            "who": who,
            "csrf": csrf_token(request),
            "stage_label": _label,
            "share_text": share_text,
            "demonstration_note": (
                DEMONSTRATION_NOTE
                if who and any_demonstration(backend(request).read_store)
                else None
            ),
            **context,
        },
        status_code=status,
    )


def _label(value: str) -> str:
    return value.replace("_", " ")


# -- login -------------------------------------------------------------------------------


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
            error=f"too many failed logins: try again in {retry_after(wait)} s",
        )
        page.headers["Retry-After"] = retry_after(wait)
        return page
    if not csrf_ok(request, csrf_token):
        return render(request, "login.html", None, 403, next=next, error="form expired; retry")
    user = user_by_token(backend(request).read_store.engine, token.strip())
    if user is None:
        guard.failed(key)
        log.warning("login refused", client=client)
        return render(request, "login.html", None, 401, next=next, error="unknown or revoked token")
    guard.succeeded(key)
    start_session(request, user)
    log.info("logged in", user=user.name, role=user.role)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    if not csrf_ok(request, csrf_token):
        return render(request, "error.html", None, 403, message="form expired: reload the page")
    end_session(request)
    log.info("logged out")
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def home() -> Response:
    return RedirectResponse("/pipeline", status_code=303)


# -- pipeline ----------------------------------------------------------------------------


@router.get("/pipeline")
def pipeline_page(
    request: Request,
    who: WebUser,
    stream: Annotated[str | None, Query(max_length=queries.MAX_FILTER)] = None,
    export_format: FormatQuery = None,
) -> Response:
    reads = backend(request).fresh_reads()
    if export_format:
        return download(request, tabular.pipeline(None, queries.pipeline(reads)), export_format)
    board = queries.pipeline(reads)
    rows = [r for r in board.rows if stream in (None, r.stream)]
    cards = {c.id: c for c in queries.list_initiatives(reads, today_in_programme_tz())}
    return render(
        request,
        "pipeline.html",
        who,
        pipeline=board,
        rows=rows,
        cards=cards,
        active=sum(sum(r.counts.values()) for r in rows),
        apart=sum(len(r.stalled) + len(r.abandoned) for r in rows),
    )


# -- initiative --------------------------------------------------------------------------


def initiative_context(
    current: Backend, who: Principal, initiative_id: str, as_of: Day | None
) -> dict[str, Any]:
    reads = current.fresh_reads()
    detail = queries.initiative_detail(reads, initiative_id, today_in_programme_tz())
    if detail is None:
        raise NotFoundError(f"no initiative '{initiative_id}'")
    decisions = detail.decisions
    state: InitiativeState | None
    aggregate = current.engine.initiative(initiative_id)
    if as_of is None:
        state = initiative_state(aggregate)
    else:
        state = records.as_of(current.engine, reads, initiative_id, at=as_of, by="effective")
        decisions = [d for d in decisions if d.effective <= as_of]
    offered = [s for s in next_steps(aggregate) if who.may_run(CATALOGUE[s.command])]
    forms = [
        {
            "command": s.command,
            "doc": CATALOGUE[s.command].__doc__,
            "fields": form_fields(CATALOGUE[s.command]),
        }
        for s in offered
        if s.allowed
    ]
    return {
        "detail": detail,
        "state": state,
        "decisions": decisions,
        "as_of": as_of,
        "forms": forms if as_of is None else [],
        "not_now": [s for s in offered if s.in_stage and not s.allowed] if as_of is None else [],
    }


@router.get("/initiatives/{initiative_id}")
def initiative_page(
    request: Request,
    who: WebUser,
    initiative_id: str,
    as_of: Annotated[Day | None, Query()] = None,
    done: str | None = None,
    export_format: FormatQuery = None,
) -> Response:
    if export_format:  # the decision history, as `kringloop audit history` exports it
        try:
            lines = records.history(backend(request).engine, initiative_id)
        except KringloopError as error:
            return render(request, "error.html", who, status_for(error), message=str(error))
        return download(request, tabular.audit_history(initiative_id, lines), export_format)
    try:
        context = initiative_context(backend(request), who, initiative_id, as_of)
    except KringloopError as error:
        return render(request, "error.html", who, status_for(error), message=str(error))
    return render(request, "initiative.html", who, done=done, **context)


@router.post("/initiatives/{initiative_id}/commands/{command}")
async def initiative_command(
    request: Request, who: WebUser, initiative_id: str, command: str
) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if not csrf_ok(request, form.get("csrf_token")):
        return render(request, "error.html", who, 403, message="form expired: reload the page")
    cls = CATALOGUE.get(command)
    if cls is None or cls.group != "initiative":
        return render(request, "error.html", who, 404, message=f"no initiative step {command!r}")
    if not who.may_run(cls):
        error = refused(request, 403, f"role {who.role.value} may not run {command}", who.name)
        return render(request, "error.html", who, 403, message=str(error.detail))
    current = backend(request)
    try:
        fields = {**parse_form(cls, form), "initiative_id": initiative_id}
        await run_in_threadpool(run_command, current, who, cls, fields, None)
    except KringloopError as error:
        context = await run_in_threadpool(initiative_context, current, who, initiative_id, None)
        return render(
            request,
            "initiative.html",
            who,
            status_for(error),
            error=str(error),
            error_for=command,
            **context,
        )
    return RedirectResponse(f"/initiatives/{initiative_id}?done={command}", status_code=303)


# -- programme, roadmap ------------------------------------------------------------------


def _programmes(current: Backend) -> list[ProgrammeRow]:
    with Session(current.fresh_reads().engine) as db:
        return list(db.exec(select(ProgrammeRow).order_by(col(ProgrammeRow.programme_id))).all())


@router.get("/programmes")
def programmes_page(request: Request, who: WebUser) -> Response:
    found = _programmes(backend(request))
    if len(found) == 1:
        return RedirectResponse(f"/programmes/{found[0].programme_id}", status_code=303)
    return render(request, "programmes.html", who, programmes=found)


@router.get("/programmes/{programme_id}")
def programme_page(
    request: Request,
    who: WebUser,
    programme_id: str,
    export_format: FormatQuery = None,
    table: Literal["progress", "pipeline"] = "progress",
) -> Response:
    reads = backend(request).fresh_reads()
    if export_format:
        found = (
            tabular.programme_progress(programme_id, programme_progress(reads, programme_id))
            if table == "progress"
            else tabular.pipeline(programme_id, queries.pipeline(reads, programme_id))
        )
        return download(request, found, export_format)
    return render(
        request,
        "programme.html",
        who,
        programme_id=programme_id,
        targets=programme_progress(reads, programme_id),
        figures=procurement.monitor_figures(reads, programme_id),
        pipeline=queries.pipeline(reads, programme_id),
    )


@router.get("/programmes/{programme_id}/roadmap")
def roadmap_page(
    request: Request,
    who: WebUser,
    programme_id: str,
    export_format: FormatQuery = None,
    table: Literal["roadmap", "categories"] = "roadmap",
) -> Response:
    reads = backend(request).fresh_reads()
    until = procurement.this_year() - 1
    if export_format and table == "categories":
        totals = procurement.category_totals(reads, programme_id)
        return download(
            request, tabular.procurement_categories(programme_id, totals), export_format
        )
    lines = procurement.roadmap(reads, programme_id, until)
    if export_format:
        return download(request, tabular.procurement_roadmap(programme_id, lines), export_format)
    years = sorted({y.year for line in lines for y in line.years})
    return render(
        request,
        "roadmap.html",
        who,
        programme_id=programme_id,
        lines=lines,
        years=years,
        categories=procurement.category_totals(reads, programme_id),
    )


# -- audit -------------------------------------------------------------------------------


@router.get("/audit")
def audit_page(request: Request, who: WebUser) -> HTMLResponse:
    reads = backend(request).fresh_reads()
    initiatives = queries.list_initiatives(reads, today_in_programme_tz())
    return render(
        request,
        "audit.html",
        who,
        last=backend(request).last_verify,
        initiatives=initiatives,
    )


def _may_not_audit(request: Request, who: Principal) -> Response:
    error = refused(request, 403, f"role {who.role.value} may not verify or export", who.name)
    return render(request, "error.html", who, 403, message=str(error.detail))


@router.post("/audit/verify")
def audit_verify(
    request: Request, who: WebUser, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    if not csrf_ok(request, csrf_token):
        return render(request, "error.html", who, 403, message="form expired: reload the page")
    if who.role not in MAY_AUDIT:
        return _may_not_audit(request, who)
    run_verify(backend(request))
    return RedirectResponse("/audit", status_code=303)


@router.get("/audit/export")
def audit_export(request: Request, who: WebUser, initiative_id: str | None = None) -> Response:
    if who.role not in MAY_AUDIT:
        return _may_not_audit(request, who)
    try:
        body, name = export_bundle(backend(request), initiative_id or None)
    except KringloopError as error:
        return render(request, "error.html", who, status_for(error), message=str(error))
    return Response(
        body,
        media_type="application/jsonl",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
