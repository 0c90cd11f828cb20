"""An initiative: its state, its decision timeline, what it has gathered (options,
consultation, consortium, impact, assessments, handover) and the forms of its next steps,
each step it cannot take now with why not, in the page's language."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from adapters import tabular
from adapters.accounts.users import Role
from adapters.api.auth import Principal
from adapters.api.backend import Backend
from adapters.api.downloads import FormatQuery, download
from adapters.api.problems import status_for
from adapters.api.web.forms import FormField, form_fields
from adapters.api.web.pages.common import backend, page_language, page_translator, render
from adapters.api.web.pages.deciding import decide_from_form
from adapters.api.web.session import WebUser
from adapters.audit import records
from adapters.i18n import Translator, glossary
from domain.commands.base import Day
from domain.commands.catalogue import CATALOGUE
from domain.commands.next_steps import next_steps
from domain.engine import today_in_programme_tz
from domain.errors import KringloopError, NotFoundError
from domain.initiative import Initiative
from domain.messages import N_
from domain.policy import mandate_refusal
from domain.reading import InitiativeState, initiative_state
from projections import queries
from projections.initiative_page import command_of_event, initiative_parts

router = APIRouter(include_in_schema=False)


def initiative_context(
    current: Backend, who: Principal, initiative_id: str, as_of: Day | None, t: Translator
) -> dict[str, Any]:
    reads = current.current_reads()
    detail = queries.initiative_detail(reads, initiative_id, today_in_programme_tz())
    if detail is None:
        raise NotFoundError(N_("no initiative '{initiative}'"), initiative=initiative_id)
    decisions = detail.decisions
    state: InitiativeState | None
    aggregate = current.engine.initiative(initiative_id)
    if as_of is None:
        state = initiative_state(aggregate)
    else:
        state = records.as_of(current.engine, reads, initiative_id, at=as_of, by="effective")
        decisions = [d for d in decisions if d.effective <= as_of]
    programme = current.engine.programme(aggregate.programme_id)
    registered = programme.streams.get(aggregate.stream, {}).get("name")
    parts = (
        None
        if state is None
        else initiative_parts(state, stream_name=registered, programme_name=programme.name)
    )
    # a broker decides on a stream only under a mandate: without one, no form is offered
    unmandated = (
        mandate_refusal(programme, aggregate.stream, who.name, today_in_programme_tz())
        if who.role is Role.BROKER and as_of is None
        else None
    )
    offered = [
        s for s in next_steps(aggregate) if who.may_run(CATALOGUE[s.command]) and unmandated is None
    ]
    choices = _record_choices(aggregate, decisions, t)
    forms = [
        {"command": s.command, "fields": _with_choices(s.command, choices)}
        for s in offered
        if s.allowed
    ]
    not_now = [
        {"command": s.command, "why_not": t.message(s.refusal) if s.refusal else s.why_not}
        for s in offered
        if s.in_stage and not s.allowed
    ]
    return {
        "detail": detail,
        "state": state,
        "parts": parts,
        "decisions": decisions,
        "commands": {d.command_id: command_of_event(d.event) for d in decisions},
        "as_of": as_of,
        "forms": forms if as_of is None else [],
        "not_now": not_now if as_of is None else [],
        "unmandated": t.message(unmandated) if unmandated else None,
        "known": frozenset(glossary().get("stream", {})),
        "names": {aggregate.stream: registered} if registered else {},
    }


RESOLVES = ("fulfil-precondition", "waive-precondition", "fail-precondition")
"""The steps that resolve an open precondition, named in their field ``precondition``."""
CORRECTS = "correct-decision"
"""The step that corrects a decision, named in its field ``corrects``."""


def _record_choices(
    aggregate: Initiative, decisions: list[Any], t: Translator
) -> dict[str, dict[str, str]]:
    """What a field names that is one of this initiative's records, by field: its open
    preconditions (id and description) and its decisions a correction may correct (newest
    first: the day, the step and the id; a correction is corrected again at its original)."""
    preconditions = {
        name: f"{name}: {record.get('description') or record.get('kind', '')}"
        for name, record in aggregate.preconditions.items()
        if record.get("status") == "open"
    }
    correctable = {}
    for d in reversed(decisions):
        if d.event == "DecisionCorrected":
            continue
        step = command_of_event(d.event)
        what = t.term("command", step) if step else d.step
        correctable[d.command_id] = f"{t.day(d.effective)}, {what} ({d.command_id})"
    return {"precondition": preconditions, "corrects": correctable}


def _with_choices(command: str, choices: dict[str, dict[str, str]]) -> list[FormField]:
    """A step's form fields, a field that names one of the initiative's records (the
    precondition to resolve, the decision to correct) a select of them (empty when there
    is none: none is open)."""
    fields = form_fields(CATALOGUE[command])
    if command not in (*RESOLVES, CORRECTS):
        return fields
    named = "precondition" if command in RESOLVES else "corrects"
    found = choices[named]
    return [
        dataclasses.replace(f, kind="select", options=list(found), names=found, help="")
        if f.name == named
        else f
        for f in fields
    ]


@router.get("/initiatives/{initiative_id}")
def initiative_page(
    request: Request,
    who: WebUser,
    initiative_id: str,
    as_of: Annotated[Day | None, Query()] = None,
    done: str | None = None,
    export_format: FormatQuery = None,
) -> Response:
    t = page_translator(request, who)
    if export_format:  # the decision history, as `kringloop audit history` exports it
        try:
            lines = records.history(backend(request).engine, initiative_id)
        except KringloopError as error:
            return render(request, "error.html", who, status_for(error), message=t.message(error))
        return download(
            request,
            tabular.audit_history(initiative_id, lines),
            export_format,
            page_language(request, who),
        )
    try:
        context = initiative_context(backend(request), who, initiative_id, as_of, t)
    except KringloopError as error:
        return render(request, "error.html", who, status_for(error), message=t.message(error))
    done = done if done in CATALOGUE else None
    return render(request, "initiative.html", who, done=done, **context)


@router.post("/initiatives/{initiative_id}/commands/{command}")
async def initiative_command(
    request: Request, who: WebUser, initiative_id: str, command: str
) -> Response:
    """Take a next step from its form; refused, the page again with the refusal at the top
    of the form (linked to the field it concerns) and the values as they were typed."""
    fixed = {"initiative_id": initiative_id}
    refusal = await decide_from_form(request, who, command, {"initiative"}, fixed)
    if refusal is None:
        return RedirectResponse(f"/initiatives/{initiative_id}?done={command}", status_code=303)
    t = page_translator(request, who)
    current = backend(request)
    try:
        context = await run_in_threadpool(initiative_context, current, who, initiative_id, None, t)
    except KringloopError as error:
        return render(request, "error.html", who, status_for(error), message=t.message(error))
    return render(request, "initiative.html", who, refusal.status, refusal=refusal, **context)
