"""Audit: verify the hash chain, download signed exports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.api.audit import MAY_AUDIT, export_bundle, run_verify
from adapters.api.auth import Principal
from adapters.api.problems import status_for
from adapters.api.web.pages.common import (
    backend,
    forbidden,
    page_translator,
    render,
    role_forbidden,
)
from adapters.api.web.pages.deciding import FORM_EXPIRED
from adapters.api.web.session import (
    WebUser,
    csrf_ok,
)
from domain.engine import today_in_programme_tz
from domain.errors import KringloopError
from domain.messages import N_
from projections import queries

router = APIRouter(include_in_schema=False)

VERDICTS = {
    "intact": N_("Intact"),
    "intact-with-unsealed-tail": N_("Intact, with an unsealed tail"),
    "unsealed": N_("Unsealed"),
    "altered": N_("Altered"),
    "rolled-back": N_("Rolled back"),
    "unanchored": N_("Not held to its anchors"),
}
"""The hash chain's verdict (adapters.audit.verify.Verdict) in words."""

PROBLEMS = {
    "altered": N_("altered"),
    "missing": N_("missing"),
    "reordered": N_("reordered"),
    "inserted": N_("inserted"),
    "cut off": N_("cut off"),
    "unsealed": N_("unsealed"),
    "rolled back": N_("rolled back"),
    "unanchored": N_("not held to its anchors"),
}
"""What the check found wrong with an event (adapters.audit.verify.Kind), in words."""

MAY_NOT_AUDIT = N_("Your role ({role}) may not verify the record or export it.")


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


@router.get("/audit")
def audit_page(request: Request, who: WebUser) -> HTMLResponse:
    reads = backend(request).current_reads()
    initiatives = queries.list_initiatives(reads, today_in_programme_tz())
    last = backend(request).last_verify
    return render(
        request,
        "audit.html",
        who,
        last=last,
        checked_at=_moment(last.get("checked_at")) if last else None,
        sealed_at=_moment(last.get("sealed_at")) if last else None,
        anchored_at=_moment(last.get("anchored_at")) if last else None,
        verdicts=VERDICTS,
        problem_words=PROBLEMS,
        initiatives=initiatives,
    )


def _may_not_audit(request: Request, who: Principal) -> Response:
    return role_forbidden(request, who, MAY_NOT_AUDIT, "verify or export")


@router.post("/audit/verify")
def audit_verify(
    request: Request, who: WebUser, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    if not csrf_ok(request, csrf_token):
        return forbidden(request, who, FORM_EXPIRED)
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
        message = page_translator(request, who).message(error)
        return render(request, "error.html", who, status_for(error), message=message)
    return Response(
        body,
        media_type="application/jsonl",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
