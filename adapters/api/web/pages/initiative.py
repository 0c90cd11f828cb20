"""An initiative: its state, its decision timeline and the forms of its next steps."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from adapters import tabular
from adapters.api.auth import Principal, refused
from adapters.api.backend import Backend
from adapters.api.commands import run_command
from adapters.api.downloads import FormatQuery, download
from adapters.api.problems import status_for
from adapters.api.web.forms import form_fields, parse_form
from adapters.api.web.pages.common import backend, render
from adapters.api.web.session import (
    WebUser,
    csrf_ok,
)
from adapters.audit import records
from domain.commands.base import Day
from domain.commands.catalogue import CATALOGUE
from domain.commands.next_steps import next_steps
from domain.engine import today_in_programme_tz
from domain.errors import KringloopError, NotFoundError
from domain.reading import InitiativeState, initiative_state
from projections import queries

router = APIRouter(include_in_schema=False)


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
