"""Audit: verify the hash chain, download signed exports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.api.audit import MAY_AUDIT, export_bundle, run_verify
from adapters.api.auth import Principal, refused
from adapters.api.problems import status_for
from adapters.api.web.pages.common import backend, render
from adapters.api.web.session import (
    WebUser,
    csrf_ok,
)
from domain.engine import today_in_programme_tz
from domain.errors import KringloopError
from projections import queries

router = APIRouter(include_in_schema=False)


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
