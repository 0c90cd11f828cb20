"""GET endpoints for every read-side query: served from the read models as the app's
follower keeps them (``adapters.api.read_side``), conditionally and from the answers kept at
the read models' position (``adapters.api.conditional``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters import tabular
from adapters.api.auth import principal
from adapters.api.backend import Backend
from adapters.api.conditional import api_read
from adapters.api.downloads import TABLE_RESPONSES, FormatQuery, download, wanted
from domain.commands.base import Day
from domain.commands.next_steps import next_steps
from domain.engine import today_in_programme_tz
from domain.errors import NotFoundError
from domain.messages import N_
from domain.values import Stage, Status
from projections import procurement, queries
from projections.programme import RoleEntry, roles
from projections.progress import TargetProgress, programme_progress
from projections.store import ReadStore

router = APIRouter(
    prefix="/api", dependencies=[Depends(principal), Depends(api_read)], tags=["reads"]
)
Flag = Literal["ready", "at_risk", "escalated"]
Limit = Annotated[int, Query(ge=1, le=10_000)]
Filter = Annotated[str | None, Query(max_length=queries.MAX_FILTER)]  # free text: 422 above


def backend(request: Request) -> Backend:
    result: Backend = request.app.state.backend
    return result


async def current(request: Request) -> ReadStore:
    """The read models as the follower keeps them (async: no turn in the thread pool);
    without a follower, caught up first in the pool."""
    found = backend(request)
    if found.read_side.following:
        return found.read_store
    return await run_in_threadpool(found.current_reads)


Reads = Annotated[ReadStore, Depends(current)]


@router.get("/initiatives", response_model=list[queries.InitiativeSummary])
def list_initiatives(
    reads: Reads,
    stage: Stage | None = None,
    stream: Filter = None,
    sub_stream: Filter = None,
    broker: Filter = None,
    status: Status | None = None,
    stalled_days: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    flagged: Flag | None = None,
    sort: queries.SortKey = "id",
) -> list[queries.InitiativeSummary]:
    return queries.list_initiatives(
        reads,
        today_in_programme_tz(),
        stage=stage.value if stage else None,
        stream=stream,
        sub_stream=sub_stream,
        broker=broker,
        status=status.value if status else None,
        stalled_days=stalled_days,
        flagged=flagged,
        sort=sort,
    )


@router.get("/initiatives/{initiative_id}", response_model=queries.InitiativeDetail)
def initiative_detail(
    request: Request, reads: Reads, initiative_id: str
) -> queries.InitiativeDetail:
    """The initiative's state, preconditions, impact and decisions (the read models), and
    ``next_steps``: every step of the lifecycle, allowed now or why not (the initiative's
    own answer, domain.initiative.LIFECYCLE)."""
    detail = queries.initiative_detail(reads, initiative_id, today_in_programme_tz())
    if detail is None:
        raise NotFoundError(N_("no initiative '{initiative}'"), initiative=initiative_id)
    detail.next_steps = next_steps(backend(request).engine.initiative(initiative_id))
    return detail


@router.get("/pipeline", response_model=queries.Pipeline, responses=TABLE_RESPONSES)
def pipeline(
    request: Request,
    reads: Reads,
    programme_id: Filter = None,
    export_format: FormatQuery = None,
) -> queries.Pipeline | Response:
    found = queries.pipeline(reads, programme_id)
    if chosen := wanted(request, export_format):
        return download(request, tabular.pipeline(programme_id, found), chosen)
    return found


@router.get(
    "/preconditions", response_model=list[queries.PreconditionEntry], responses=TABLE_RESPONSES
)
def register(
    request: Request,
    reads: Reads,
    initiative_id: Filter = None,
    responsible: Filter = None,
    status: Filter = None,
    overdue: bool = False,
    due_before: Day | None = None,
    export_format: FormatQuery = None,
) -> list[queries.PreconditionEntry] | Response:
    found = queries.register(
        reads,
        today_in_programme_tz(),
        initiative_id=initiative_id,
        responsible=responsible,
        status=status,
        overdue=overdue,
        due_before=due_before,
    )
    if chosen := wanted(request, export_format):
        return download(request, tabular.precondition_register(found), chosen)
    return found


@router.get("/decisions", response_model=list[queries.DecisionLogEntry], responses=TABLE_RESPONSES)
def decision_log(
    request: Request,
    reads: Reads,
    actor: Filter = None,
    step: Filter = None,
    subject: Filter = None,
    since: Day | None = None,
    until: Day | None = None,
    text: Filter = None,
    limit: Limit = 1000,
    export_format: FormatQuery = None,
) -> list[queries.DecisionLogEntry] | Response:
    found = queries.decision_log(
        reads,
        actor=actor,
        step=step,
        subject=subject,
        since=since,
        until=until,
        text=text,
        limit=limit,
    )
    if chosen := wanted(request, export_format):
        return download(request, tabular.decision_log(found), chosen)
    return found


@router.get("/authority/roles", response_model=list[RoleEntry], responses=TABLE_RESPONSES)
def authority_roles(
    request: Request, export_format: FormatQuery = None
) -> list[RoleEntry] | Response:
    """The authority register's roles, with the name of the person behind each identity
    (personal data: "[erased]" once forgotten)."""
    engine = backend(request).engine
    found = roles(engine.register(), today_in_programme_tz(), engine.keyring.reveal)
    if chosen := wanted(request, export_format):
        return download(request, tabular.authority_roles(found), chosen)
    return found


@router.get(
    "/programmes/{programme_id}/progress",
    response_model=list[TargetProgress],
    responses=TABLE_RESPONSES,
)
def progress(
    request: Request, reads: Reads, programme_id: str, export_format: FormatQuery = None
) -> list[TargetProgress] | Response:
    found = programme_progress(reads, programme_id)
    if chosen := wanted(request, export_format):
        return download(request, tabular.programme_progress(programme_id, found), chosen)
    return found


@router.get(
    "/programmes/{programme_id}/roadmap",
    response_model=list[procurement.RoadmapLine],
    responses=TABLE_RESPONSES,
)
def roadmap(
    request: Request,
    reads: Reads,
    programme_id: str,
    until: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    export_format: FormatQuery = None,
) -> list[procurement.RoadmapLine] | Response:
    found = procurement.roadmap(reads, programme_id, until or procurement.this_year() - 1)
    if chosen := wanted(request, export_format):
        return download(request, tabular.procurement_roadmap(programme_id, found), chosen)
    return found


@router.get(
    "/programmes/{programme_id}/procurement/categories",
    response_model=list[procurement.CategoryTotal],
    responses=TABLE_RESPONSES,
)
def categories(
    request: Request, reads: Reads, programme_id: str, export_format: FormatQuery = None
) -> list[procurement.CategoryTotal] | Response:
    found = procurement.category_totals(reads, programme_id)
    if chosen := wanted(request, export_format):
        return download(request, tabular.procurement_categories(programme_id, found), chosen)
    return found


@router.get(
    "/programmes/{programme_id}/procurement/communities",
    response_model=list[procurement.CommunityActivity],
    responses=TABLE_RESPONSES,
)
def communities(
    request: Request, reads: Reads, programme_id: str, export_format: FormatQuery = None
) -> list[procurement.CommunityActivity] | Response:
    found = procurement.community_activity(reads, programme_id)
    if chosen := wanted(request, export_format):
        return download(request, tabular.procurement_communities(programme_id, found), chosen)
    return found


@router.get(
    "/programmes/{programme_id}/procurement/figures", response_model=procurement.MonitorFigures
)
def figures(reads: Reads, programme_id: str) -> procurement.MonitorFigures:
    return procurement.monitor_figures(reads, programme_id)
