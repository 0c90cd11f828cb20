"""How an aggregate and its decisions read from outside: plain pydantic shapes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from domain.initiative import Initiative
from domain.programme import Programme
from domain.values import Decision

_EVENT_BASE_FIELDS = {
    "originator_id",
    "originator_version",
    "timestamp",
    "decision",
    "originator_topic",
}


class DecisionEntry(BaseModel):
    """One event of an aggregate, as the decision record it is."""

    version: int
    event: str
    recorded_at: datetime
    effective: date
    actor: str
    recorded_by: str
    authority: str
    reason: str
    evidence: list[str]
    command_id: str
    details: dict[str, Any]


class InitiativeState(BaseModel):
    id: str
    programme_id: str
    stream: str
    title: str
    description: str
    stage: str
    stage_since: date
    status: str
    status_reason: str
    proposed_by: str
    options: dict[str, dict[str, Any]]
    chosen_options: list[str]
    consultation_open: bool
    responses: dict[str, dict[str, Any]]
    lead: str | None
    preconditions: dict[str, dict[str, Any]]
    members: dict[str, str]
    arrangement: dict[str, Any] | None
    consortium_formed_on: date | None
    handover_note: str
    assessments: list[dict[str, Any]]
    scale_level: str | None
    impact: dict[str, dict[str, float]]
    version: int
    last_effective: date


class ProgrammeState(BaseModel):
    id: str
    name: str
    region: str
    founded: date
    current_phase: int | None
    members: dict[str, str]
    phases: dict[str, dict[str, Any]]
    targets: dict[str, dict[str, Any]]
    streams: dict[str, dict[str, Any]]
    mandates: dict[str, dict[str, list[list[Any]]]]
    version: int


def initiative_state(initiative: Initiative) -> InitiativeState:
    fields = {
        name: getattr(initiative, name)
        for name in InitiativeState.model_fields
        if name not in ("id", "version")
    }
    return InitiativeState(id=initiative.initiative_id, version=initiative.version, **fields)


def programme_state(programme: Programme) -> ProgrammeState:
    fields = {
        name: getattr(programme, name)
        for name in ProgrammeState.model_fields
        if name not in ("id", "version")
    }
    return ProgrammeState(id=programme.programme_id, version=programme.version, **fields)


def decision_entry(event: Any) -> DecisionEntry:
    decision: Decision = event.decision
    details = {k: v for k, v in vars(event).items() if k not in _EVENT_BASE_FIELDS}
    return DecisionEntry(
        version=event.originator_version,
        event=type(event).__name__,
        recorded_at=event.timestamp,
        effective=decision.effective,
        actor=decision.actor,
        recorded_by=decision.recorder,
        authority=decision.authority,
        reason=decision.reason,
        evidence=list(decision.evidence),
        command_id=decision.command_id,
        details=details,
    )
