"""The pipeline board: the streams as rows (sub-streams folded in), the stages as columns,
the active initiatives in their cells; the stalled and abandoned ones in a table apart."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from adapters import tabular
from adapters.api.downloads import FormatQuery, download
from adapters.api.web.pages.common import backend, page_language, render
from adapters.api.web.session import (
    WebUser,
)
from adapters.i18n import glossary
from domain.engine import today_in_programme_tz
from domain.values import Stage
from projections import programme, queries

router = APIRouter(include_in_schema=False)

WAITING_STAGES = frozenset(
    {Stage.PROPOSED, Stage.EXPERT_SCAN, Stage.MARKET_CONSULTATION, Stage.PRECONDITION_FULFILMENT}
)
"""The stages where the days an initiative has stood in them say something (it waits for a
scan, a consultation, its preconditions); after the consortium is formed they do not."""


def named_streams() -> frozenset[str]:
    """The stream slugs the glossary has a word for; any other stream shows its registered
    name, as record data."""
    return frozenset(glossary().get("stream", {}))


@router.get("/pipeline")
def pipeline_page(
    request: Request,
    who: WebUser,
    stream: Annotated[str | None, Query(max_length=queries.MAX_FILTER)] = None,
    export_format: FormatQuery = None,
) -> Response:
    reads = backend(request).current_reads()
    if export_format:
        return download(
            request,
            tabular.pipeline(None, queries.pipeline(reads)),
            export_format,
            page_language(request, who),
        )
    board = queries.pipeline(reads)
    rows = [r for r in board.rows if stream in (None, r.stream)]
    cards = {c.id: c for c in queries.list_initiatives(reads, today_in_programme_tz())}
    names = programme.stream_names(reads)
    apart = [cards[i] for r in rows for i in r.stalled + r.abandoned]
    return render(
        request,
        "pipeline.html",
        who,
        pipeline=board,
        rows=rows,
        cards=cards,
        names=names,
        known=named_streams(),
        waiting=[s.value for s in WAITING_STAGES],
        stream=stream,
        active=sum(sum(r.counts.values()) for r in rows),
        apart=sorted(apart, key=lambda c: (c.status, c.id)),
    )
