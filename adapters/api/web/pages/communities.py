"""Communities of practice: the list (with the form to found one) and each community's page:
its members by kind, its meetings with their topics and attendance, its joint procurement
trajectories with the amounts invested, and the forms a manager takes its decisions with
(join, hold a meeting, start a trajectory)."""

from __future__ import annotations

from functools import partial
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from adapters import tabular
from adapters.api.auth import Principal
from adapters.api.backend import Backend
from adapters.api.downloads import FormatQuery, download
from adapters.api.web.pages.common import backend, page_language, render
from adapters.api.web.pages.deciding import decide_from_form, role_refusal, submitted
from adapters.api.web.pages.organisations import answered, not_found, programme_ids
from adapters.api.web.session import WebUser
from adapters.i18n import glossary
from domain.commands.catalogue import CATALOGUE
from domain.messages import N_
from domain.values import OrganisationKind
from projections import organisations
from projections.organisations import KIND_ORDER

router = APIRouter(include_in_schema=False)

FOUND = "found-community"
COMMANDS = ("join-community", "hold-meeting", "start-trajectory")
NOT_FOUND = N_("No community of practice {id} is known.")


def communities_context(current: Backend, who: Principal) -> dict[str, Any]:
    return {
        "communities": organisations.communities(current.current_reads()),
        "programmes": programme_ids(current),
        "forms": [FOUND] if who.may_run(CATALOGUE[FOUND]) else [],
    }


@router.get("/communities")
def communities_page(
    request: Request, who: WebUser, done: str | None = None, export_format: FormatQuery = None
) -> Response:
    context = communities_context(backend(request), who)
    if export_format:
        table = tabular.procurement_communities("all", context["communities"])
        return download(request, table, export_format, page_language(request, who))
    done = done if done == FOUND else None
    return render(request, "communities.html", who, done=done, refusal=None, **context)


@router.post("/communities/commands/found-community")
async def found_community(request: Request, who: WebUser) -> Response:
    current = backend(request)
    programmes = programme_ids(current)
    fixed = {"programme_id": programmes[0]} if len(programmes) == 1 else {}
    refusal = await decide_from_form(request, who, FOUND, {"community"}, fixed)
    if refusal is None:
        community_id = submitted(await request.form()).get("community_id", "").strip()
        return RedirectResponse(f"/communities/{community_id}?done={FOUND}", status_code=303)
    context = await run_in_threadpool(communities_context, current, who)
    return render(
        request, "communities.html", who, refusal.status, refusal=refusal, done=None, **context
    )


def community_context(current: Backend, who: Principal, community_id: str) -> dict[str, Any] | None:
    detail = organisations.community(current.current_reads(), community_id)
    if detail is None:
        return None
    kinds: dict[str, list[Any]] = {}
    for member in detail.members:
        kinds.setdefault(member.kind, []).append(member)
    return {
        "c": detail,
        "kinds": kinds,
        "forms": [c for c in COMMANDS if who.may_run(CATALOGUE[c])],
        "member_kinds": [k for k in KIND_ORDER if k in {str(v) for v in OrganisationKind}],
        "categories": list(glossary().get("category", {})),
        "next_meeting": max((m.meeting for m in detail.meetings), default=0) + 1,
    }


@router.get("/communities/{community_id}")
def community_page(
    request: Request,
    who: WebUser,
    community_id: str,
    done: str | None = None,
    export_format: FormatQuery = None,
    table: Literal["members", "meetings", "trajectories"] = "meetings",
) -> Response:
    context = community_context(backend(request), who, community_id)
    if context is None:
        return _not_found(request, who, community_id)
    if export_format:
        exports = {
            "members": tabular.community_members,
            "meetings": tabular.community_meetings,
            "trajectories": tabular.community_trajectories,
        }
        return download(
            request, exports[table](context["c"]), export_format, page_language(request, who)
        )
    done = done if done in (FOUND, *COMMANDS) else None
    return render(request, "community.html", who, done=done, refusal=None, **context)


@router.post("/communities/{community_id}/commands/{command}")
async def community_command(
    request: Request, who: WebUser, community_id: str, command: str
) -> Response:
    if denied := role_refusal(request, who, command, {"community"}):
        return denied
    current = backend(request)
    if await run_in_threadpool(community_context, current, who, community_id) is None:
        return _not_found(request, who, community_id)
    fixed: dict[str, Any] = {"community_id": community_id}
    refusal = await decide_from_form(request, who, command, {"community"}, fixed)
    return await answered(
        request,
        who,
        refusal,
        f"/communities/{community_id}?done={command}",
        "community.html",
        partial(community_context, current, who, community_id),
        partial(_not_found, request, who, community_id),
    )


def _not_found(request: Request, who: Principal, community_id: str) -> Response:
    return not_found(request, who, NOT_FOUND, community_id)
