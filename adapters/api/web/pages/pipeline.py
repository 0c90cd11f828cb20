"""The pipeline board: the streams as rows, the stages as columns."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from adapters import tabular
from adapters.api.downloads import FormatQuery, download
from adapters.api.web.pages.common import backend, render
from adapters.api.web.session import (
    WebUser,
)
from domain.engine import today_in_programme_tz
from projections import queries

router = APIRouter(include_in_schema=False)


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
