"""The programme: its phases, its targets with the honest figures, who may decide what (the
brokers' mandates and the authority register's roles), its streams, the procurement monitor's
figures, and the forms of the programme decisions the person's role may take. Also the
procurement roadmap."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from adapters import tabular
from adapters.api.auth import Principal
from adapters.api.backend import Backend
from adapters.api.downloads import FormatQuery, download
from adapters.api.web.forms import FormField, form_fields
from adapters.api.web.pages.common import backend, page_language, page_translator, render
from adapters.api.web.pages.deciding import decide_from_form, role_refusal
from adapters.api.web.pages.pipeline import named_streams
from adapters.api.web.session import (
    WebUser,
)
from adapters.i18n import glossary
from adapters.tabular import Table
from domain.authority import REGISTER
from domain.commands.catalogue import CATALOGUE
from domain.engine import today_in_programme_tz
from domain.messages import N_
from projections import procurement, queries
from projections import programme as record
from projections.figures import headline_figures, is_demonstration
from projections.progress import programme_progress
from projections.tables import ProgrammeRow

router = APIRouter(include_in_schema=False)

GROUPS = {"programme", "authority"}
"""The catalogue groups whose decisions this page takes."""

SECTIONS: dict[str, tuple[str, ...]] = {
    "phases": ("record-phase-change",),
    "targets": ("set-target", "record-target-measurement"),
    "authority": ("grant-mandate", "revoke-mandate", "grant-role", "revoke-role", "name-person"),
    "streams": ("register-stream",),
    "members": ("add-member", "set-scale-up-criteria"),
}
"""The forms of each section of the page, in the order shown."""

FIXED = {"programme_id", "authority_id"}  # the page fills these in
COMMON = ("reason", "evidence", "effective")  # every decision's fields, shown last
TERM_OF_FIELD = {
    "phase_status": "phase_status",
    "role": "role",
    "measure": "measure",
    "organisation_kind": "organisation_kind",
}
"""The glossary kind of a select field's options."""

# Where a target's figure comes from, as projections.progress writes it (to translate).
WORDS = (
    N_("consortia formed"),
    N_("joint procurement trajectories"),
    N_("streams with a consortium at R0-R8"),
    N_("jobs in the latest impact reports"),
    N_("companies started, all impact reports"),
    N_("tonnes in the latest impact reports"),
    N_("imports avoided in the latest impact reports"),
    N_("CO2e avoided in the latest impact reports"),
    N_("consortia + joint procurement trajectories"),
    N_("not measured: no programme measurement recorded yet"),
    # the procurement monitor's headline figures (projections.figures.HEADLINE_LABELS)
    N_("consortia formed (not abandoned)"),
    N_("of them with a new financial arrangement"),
    N_("circular procurement commitments"),
    N_("communities of practice"),
    N_("community meetings"),
    N_("participants per meeting, on average"),
    N_("invested through joint procurement trajectories"),
)


INTRODUCTIONS: dict[str, str] = {
    "record-phase-change": N_(
        "Record that a phase started, was approved (and by whom) or was completed."
    ),
    "set-target": N_(
        "Set a new target or revise one, in its own unit. With a measure, the figure is "
        "counted from the recorded decisions; without one, the programme records "
        "measurements itself."
    ),
    "record-target-measurement": N_(
        "Record a figure the programme measured itself, for a target without a measure, and "
        "say where it comes from."
    ),
    "grant-mandate": N_(
        "Give a transition broker the mandate to decide on streams, from the day it takes "
        "effect (all: every stream)."
    ),
    "revoke-mandate": N_("End a broker's mandate for streams, from the day it takes effect."),
    "grant-role": N_("Give someone a role, from the day it takes effect."),
    "revoke-role": N_("End someone's role, from the day it takes effect."),
    "name-person": N_(
        "Record the name of the person behind an identity. It is personal data: sealed with "
        "their own key, and erased for good on request (kringloop privacy forget)."
    ),
    "register-stream": N_("Register a resource stream, or a sub-stream under a stream."),
    "add-member": N_("Add an organisation that takes part in the programme."),
    "set-scale-up-criteria": N_(
        "Set the criteria the scheduled check applies to initiatives after the board withdrew."
    ),
}
"""What each form decides, in a sentence."""


@dataclass(frozen=True)
class DecisionForm:
    command: str
    intro: str  # an English message id
    fields: list[FormField]


def _programmes(current: Backend) -> list[ProgrammeRow]:
    with Session(current.current_reads().engine) as db:
        return list(db.exec(select(ProgrammeRow).order_by(col(ProgrammeRow.programme_id))).all())


@router.get("/programmes")
def programmes_page(request: Request, who: WebUser) -> Response:
    found = _programmes(backend(request))
    if len(found) == 1:
        return RedirectResponse(f"/programmes/{found[0].programme_id}", status_code=303)
    return render(request, "programmes.html", who, programmes=found)


Choices = dict[str, dict[str, tuple[list[str], str | None]]]
"""command -> field -> the values a field offers in place of free text, and the glossary
kind of their words (None: record data, shown as it is)."""


def decision_forms(who: Principal, choices: Choices) -> dict[str, list[DecisionForm]]:
    """The forms of each section the person's role may take: the command's own fields
    first, then the reason, evidence and effective date."""
    found: dict[str, list[DecisionForm]] = {}
    for section, commands in SECTIONS.items():
        for command in commands:
            cls = CATALOGUE[command]
            if not who.may_run(cls):
                continue
            fields = [f for f in form_fields(cls) if f.name not in FIXED]
            fields.sort(key=lambda f: COMMON.index(f.name) + 1 if f.name in COMMON else 0)
            offered = choices.get(command, {})
            fields = [
                replace(
                    f, kind="select", options=offered[f.name][0], term=offered[f.name][1], help=""
                )
                if f.name in offered
                else f
                for f in fields
            ]
            found.setdefault(section, []).append(
                DecisionForm(command=command, intro=INTRODUCTIONS[command], fields=fields)
            )
    return found


def programme_context(request: Request, who: Principal, programme_id: str) -> dict[str, Any]:
    """Everything the programme page shows, read fresh."""
    current = backend(request)
    reads = current.current_reads()
    today = today_in_programme_tz()
    with Session(reads.engine) as db:
        row = db.get(ProgrammeRow, programme_id)
    targets = programme_progress(reads, programme_id)
    keys = [p.key for p in targets]
    choices: Choices = {  # set-target keeps a free key: a new target, or a revised one
        "record-target-measurement": {
            "key": (keys, "target" if set(keys) <= _glossary_targets() else None)
        },
        "record-phase-change": {"phase": ([str(n) for n in record.PHASES], "phase")},
    }
    forms = decision_forms(who, choices)
    return {
        "programme": row,
        "programme_id": programme_id,
        "phases": record.phases(reads, programme_id),
        "targets": targets,
        "target_known": _glossary_targets(),
        "measured_from": record.measurement_sources(reads, programme_id),
        "figures": headline_figures(reads, programme_id),
        "demonstration": is_demonstration(reads, programme_id),
        "mandates": record.mandates(reads, programme_id, today),
        "roles": record.roles(current.engine.register(), today, current.engine.keyring.reveal),
        "streams": record.streams(reads, programme_id),
        "names": record.stream_names(reads, programme_id),
        "known": named_streams(),
        "pipeline": queries.pipeline(reads, programme_id),
        "forms": forms,
    }


def _glossary_targets() -> frozenset[str]:
    return frozenset(glossary().get("target", {}))


ProgrammeTable = Literal[
    "progress", "pipeline", "phases", "figures", "mandates", "roles", "streams"
]


def programme_table(current: Backend, programme_id: str, table: ProgrammeTable) -> Table:
    """One of the page's tables, for its CSV and Excel links."""
    reads = current.current_reads()
    today = today_in_programme_tz()
    if table == "progress":
        return tabular.programme_progress(programme_id, programme_progress(reads, programme_id))
    if table == "pipeline":
        return tabular.pipeline(programme_id, queries.pipeline(reads, programme_id))
    if table == "phases":
        return tabular.programme_phases(programme_id, record.phases(reads, programme_id))
    if table == "figures":
        return tabular.programme_figures(programme_id, headline_figures(reads, programme_id))
    if table == "mandates":
        mandates = record.mandates(reads, programme_id, today)
        return tabular.programme_mandates(programme_id, mandates)
    if table == "roles":
        return tabular.authority_roles(
            record.roles(current.engine.register(), today, current.engine.keyring.reveal)
        )
    return tabular.programme_streams(programme_id, record.streams(reads, programme_id))


@router.get("/programmes/{programme_id}")
def programme_page(
    request: Request,
    who: WebUser,
    programme_id: str,
    export_format: FormatQuery = None,
    table: ProgrammeTable = "progress",
    done: str | None = None,
) -> Response:
    current = backend(request)
    if export_format:
        return download(
            request,
            programme_table(current, programme_id, table),
            export_format,
            page_language(request, who),
        )
    context = programme_context(request, who, programme_id)
    if context["programme"] is None:
        t = page_translator(request, who)
        message = t.gettext(N_("There is no programme {programme}.")).format(programme=programme_id)
        return render(request, "error.html", who, 404, message=message)
    return render(
        request,
        "programme.html",
        who,
        done=done if done in CATALOGUE else None,
        **context,
    )


@router.post("/programmes/{programme_id}/commands/{command}")
async def programme_command(
    request: Request, who: WebUser, programme_id: str, command: str
) -> Response:
    if denied := role_refusal(request, who, command, GROUPS):  # no form here is theirs
        return denied
    cls = CATALOGUE.get(command)
    fixed: dict[str, Any] = (
        {"authority_id": REGISTER}
        if cls is not None and cls.group == "authority"
        else {"programme_id": programme_id}
    )
    refusal = await decide_from_form(request, who, command, GROUPS, fixed)
    if refusal is None:
        return RedirectResponse(
            f"/programmes/{programme_id}?done={command}#recorded", status_code=303
        )
    context = programme_context(request, who, programme_id)
    if context["programme"] is None:
        return render(request, "error.html", who, refusal.status, message=refusal.message)
    return render(request, "programme.html", who, refusal.status, refusal=refusal, **context)


@router.get("/programmes/{programme_id}/roadmap")
def roadmap_page(
    request: Request,
    who: WebUser,
    programme_id: str,
    export_format: FormatQuery = None,
    table: Literal["roadmap", "categories"] = "roadmap",
) -> Response:
    reads = backend(request).current_reads()
    until = procurement.this_year() - 1
    if export_format and table == "categories":
        totals = procurement.category_totals(reads, programme_id)
        return download(
            request,
            tabular.procurement_categories(programme_id, totals),
            export_format,
            page_language(request, who),
        )
    lines = procurement.roadmap(reads, programme_id, until)
    if export_format:
        return download(
            request,
            tabular.procurement_roadmap(programme_id, lines),
            export_format,
            page_language(request, who),
        )
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
