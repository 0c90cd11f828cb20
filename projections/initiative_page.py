"""What the initiative page shows beyond the read models' summary, every figure from one
place: the initiative's own state (``domain.reading.InitiativeState``, as it stands or as it
stood on a day), read into plain shapes a page lays out.

The read-model tables keep what the pipeline and the figures count; the options with their
R-level and expert, the consultation's answers, the consortium's roles and shares, the
impact per year, the scale-up assessments and the handover note are read here from the
aggregate the page already loads, without a table of their own.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from domain.commands.catalogue import CATALOGUE, command_for_step
from domain.initiative import Initiative
from domain.reading import InitiativeState
from domain.values import Measure

CREATED = "Proposed"
"""The event that brings an initiative into being (``Initiative.__init__``)."""
NO_ARRANGEMENT = "none"
"""The arrangement type of a consortium that declared it needs no new arrangement."""


class OptionView(BaseModel):
    option: str
    description: str
    level: str  # the R-level, R0 ... R9
    expert: str
    chosen: bool


class RespondentView(BaseModel):
    company: str
    willing_to_invest: bool
    willing_to_lead: bool
    stated_preconditions: list[str]
    selected_lead: bool


class MemberView(BaseModel):
    organisation: str
    role: str
    cost_share: float | None  # percent; None when no arrangement names the member
    benefit_share: float | None


class AssessmentView(BaseModel):
    on: date
    ready: bool
    at_risk: bool
    criteria: str
    figures: dict[str, float]
    by: str


class ImpactYear(BaseModel):
    year: int
    figures: dict[str, float]  # measure -> figure


class InitiativePage(BaseModel):
    """The parts of an initiative the page shows beside its state and timeline."""

    stream_name: str | None  # as the programme registered it (None: not registered)
    programme_name: str | None
    options: list[OptionView]
    consultation_open: bool
    respondents: list[RespondentView]
    members: list[MemberView]
    arrangement_type: str | None  # None: not agreed yet; NO_ARRANGEMENT: none needed
    impact_measures: list[str]  # the columns of the impact table, in the measures' order
    impact: list[ImpactYear]  # the rows, oldest year first
    assessments: list[AssessmentView]
    handover_note: str
    scale_level: str | None

    @property
    def no_new_arrangement(self) -> bool:
        return self.arrangement_type == NO_ARRANGEMENT


def initiative_parts(
    state: InitiativeState,
    stream_name: str | None = None,
    programme_name: str | None = None,
) -> InitiativePage:
    """The page's parts of ``state``; the stream's and programme's names as the programme
    registered them, when the caller has them."""
    arrangement = state.arrangement
    shares = {s["party"]: s for s in (arrangement or {}).get("shares", [])}
    reported = {m for figures in state.impact.values() for m in figures}
    order = [m.value for m in Measure]
    return InitiativePage(
        stream_name=stream_name,
        programme_name=programme_name,
        options=[
            OptionView(
                option=key,
                description=str(o.get("description", "")),
                level=str(o.get("circularity_level", "")),
                expert=str(o.get("expert", "")),
                chosen=key in state.chosen_options,
            )
            for key, o in state.options.items()
        ],
        consultation_open=state.consultation_open,
        respondents=[
            RespondentView(
                company=company,
                willing_to_invest=bool(r.get("willing_to_invest")),
                willing_to_lead=bool(r.get("willing_to_lead")),
                stated_preconditions=list(r.get("stated_preconditions", [])),
                selected_lead=company == state.lead,
            )
            for company, r in state.responses.items()
        ],
        members=[
            MemberView(
                organisation=organisation,
                role=str(role),
                cost_share=_share(shares.get(organisation), "cost_share"),
                benefit_share=_share(shares.get(organisation), "benefit_share"),
            )
            for organisation, role in state.members.items()
        ],
        arrangement_type=None if arrangement is None else str(arrangement.get("type")),
        impact_measures=[m for m in order if m in reported] + sorted(reported.difference(order)),
        impact=[
            ImpactYear(year=int(year), figures=dict(figures))
            for year, figures in sorted(state.impact.items(), key=lambda item: int(item[0]))
        ],
        assessments=[
            AssessmentView(
                on=a["on"],
                ready=bool(a.get("ready")),
                at_risk=bool(a.get("at_risk")),
                criteria=str(a.get("criteria", "")),
                figures=dict(a.get("figures", {})),
                by=str(a.get("by", "")),
            )
            for a in state.assessments
        ],
        handover_note=state.handover_note,
        scale_level=state.scale_level,
    )


def _share(share: dict[str, object] | None, which: str) -> float | None:
    if share is None or share.get(which) is None:
        return None
    return float(str(share[which]))


def command_of_event(event: str) -> str | None:
    """The catalogue command whose decision recorded ``event`` on an initiative (its name
    is the glossary's key for the step), or None for an event no command records."""
    step = Initiative.decided_by.get(event)
    if step is not None:
        return command_for_step("initiative", step).command
    if event == CREATED:
        return next(c.command for c in CATALOGUE.values() if c.group == "initiative" and c.creates)
    return None
