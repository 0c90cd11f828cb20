"""The programme's progress against its targets, and the procurement roadmap."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from adapters import tabular
from adapters.api.backend import Backend
from adapters.api.downloads import FormatQuery, download
from adapters.api.web.pages.common import backend, render
from adapters.api.web.session import (
    WebUser,
)
from projections import procurement, queries
from projections.progress import programme_progress
from projections.tables import ProgrammeRow

router = APIRouter(include_in_schema=False)


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
