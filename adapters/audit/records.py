"""Decision history, the record as it stood on a date, and what-if replays in a sandbox."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from domain import policy
from domain.applied import recorded_commands
from domain.archive import ARCHIVE, Archive, Destroyed
from domain.commands.base import Command
from domain.engine import Engine
from domain.errors import KringloopError, NotFoundError
from domain.initiative import Initiative
from domain.messages import N_
from domain.programme import Programme
from domain.reading import InitiativeState, decision_entry, initiative_state
from domain.replay import redecide
from projections import queries
from projections.progress import TargetProgress, programme_progress
from projections.sandbox import InEffect, project_all, sandbox_store
from projections.store import ReadStore


@dataclass(frozen=True)
class HistoryLine:
    version: int
    recorded_at: str
    effective: str
    step: str
    actor: str
    mandate: str
    recorded_by: str  # who entered it, when a late entry names someone else
    authority: str  # what it rested on, with who granted that and when
    reason: str  # as corrected, when a correction changed it (see note)
    evidence: list[str]  # as corrected, when a correction changed them (see note)
    command_id: str
    note: str = ""  # entered late; corrected by ..., with what was recorded; corrects ...


def mandate_held(programme: Programme, actor: str, stream: str, on: date) -> str:
    """The mandate a decision was taken under, in words."""
    lineage = [stream, programme.streams.get(stream, {}).get("parent")]
    for s in [x for x in lineage if x]:
        for start, end, *_ in programme.mandates.get(actor, {}).get(s, []):
            if start <= on and (end is None or on < end):
                return f"{actor} for {s} {policy.mandate_period(start, end)}"
    return "none"


def authority_grants(engine: Engine, programme: Programme) -> dict[str, str]:
    """Every decision a decision's authority can rest on (the programme's mandate grants and
    the register's role grants), by command id: who granted it, and from when."""
    found = {}
    register = engine.register()
    for record in (programme, register):
        if record is None:
            continue
        for event in engine.history(record):
            d = event.decision
            found[d.command_id] = f"granted by {d.actor}, effective {d.effective.isoformat()}"
    return found


def with_grantors(authority: str, grants: dict[str, str]) -> str:
    """The authority text with, after each grant's decision id, who granted it and when."""
    return re.sub(
        r"\(decision ([^)\s]+)\)",
        lambda m: (
            f"(decision {m.group(1)}, {grants[m.group(1)]})" if m.group(1) in grants else m.group(0)
        ),
        authority,
    )


def history(engine: Engine, initiative_id: str) -> list[HistoryLine]:
    initiative = engine.initiative(initiative_id)
    programme = engine.programme(initiative.programme_id)
    grants = authority_grants(engine, programme)
    lines = []
    latest: date | None = None
    lists: dict[int, dict[str, Any]] | None = None
    for event in engine.history(initiative):
        entry = decision_entry(event)
        mandate = mandate_held(programme, entry.actor, initiative.stream, entry.effective)
        notes = []
        if isinstance(event, Destroyed):  # its date is the destruction's, not a decision's
            lists = destruction_lists(engine) if lists is None else lists
            authority = destroyed_under(event, lists)
        else:
            if latest is not None and entry.effective < latest:
                notes.append("entered late: takes effect before decisions recorded earlier")
            latest = entry.effective if latest is None else max(latest, entry.effective)
            authority = with_grantors(
                event.decision.authority or f"not recorded (before 2026); mandate: {mandate}",
                grants,
            )
        notes += correction_notes(initiative, event)
        lines.append(
            HistoryLine(
                version=entry.version,
                recorded_at=entry.recorded_at.isoformat(),
                effective=entry.effective.isoformat(),
                step=entry.event,
                actor=entry.actor,
                mandate=mandate,
                recorded_by=event.decision.recorder,
                authority=authority,
                reason=initiative.corrected(entry.command_id, "reason", entry.reason),
                evidence=list(initiative.corrected(entry.command_id, "evidence", entry.evidence)),
                command_id=entry.command_id,
                note="; ".join(notes),
            )
        )
    return lines


def destruction_lists(engine: Engine) -> dict[int, dict[str, Any]]:
    """The destruction lists approved, by number (none while the archive is not opened)."""
    try:
        archive = engine.record(Archive, ARCHIVE)
    except NotFoundError:
        return {}
    return {int(found["number"]): found for found in archive.lists}


def destroyed_under(event: Destroyed, lists: dict[int, dict[str, Any]]) -> str:
    """What a tombstone rests on: the list, who approved it and when."""
    found = lists.get(event.list_number)
    if found is None:
        return f"destroyed under list {event.list_number} (not among the approved lists)"
    return (
        f"destroyed under list {event.list_number}, approved by {found['approved_by']} on "
        f"{found['approved_on'].isoformat()} (decision {found['command_id']})"
    )


def correction_notes(initiative: Initiative, event: Any) -> list[str]:
    """What a correction says of the decision it corrected, and of itself."""
    decision = event.decision
    notes = []
    if type(event).__name__ == "DecisionCorrected":
        notes.append(f"corrects decision {event.corrects}")
    for c in initiative.corrections.get(decision.command_id, []):
        recorded = (
            f"reason recorded as: {decision.reason}"
            if "reason" in c["changes"]
            else f"evidence recorded as: {', '.join(decision.evidence) or 'none'}"
        )
        notes.append(
            f"corrected by decision {c['by']} of {c['on'].isoformat()}: {c['why']} ({recorded})"
        )
    return notes


def as_of(
    engine: Engine,
    reads: ReadStore,
    initiative_id: str,
    at: date | None = None,
    by: Literal["recorded", "effective"] = "effective",
    version: int | None = None,
) -> InitiativeState | None:
    """The initiative exactly as it stood: at a version, or on a date. None if it did not
    exist yet."""
    if version is None and by == "effective" and at is not None:
        return _in_effect(engine, initiative_id, at)
    if version is None:
        if at is None:
            raise ValueError("as_of needs a day or a version")
        version = queries.version_as_of(reads, initiative_id, at, by)
        if version is None:
            return None
    current = engine.initiative(initiative_id)
    if not 1 <= version <= current.version:
        raise NotFoundError(
            N_("initiative '{initiative}' has versions 1 to {version}"),
            initiative=initiative_id,
            version=current.version,
        )
    return initiative_state(engine.initiative(initiative_id, version=version))


def _in_effect(engine: Engine, initiative_id: str, at: date) -> InitiativeState | None:
    """The initiative as its decisions had taken effect by ``at``: every decision in effect
    then, late entries recorded since included, applied in the order they were recorded
    (stage-changing decisions are in effective order, so their prefix is the stage path)."""
    current = engine.initiative(initiative_id)
    in_effect = [e for e in engine.history(current) if e.decision.effective <= at]
    if not in_effect:
        return None
    aggregate: Any = None
    for event in in_effect:
        if aggregate is not None:  # the decisions left out (not yet in effect) leave a gap
            aggregate.version = event.originator_version - 1
        aggregate = event.mutate(aggregate)
    return initiative_state(aggregate)


def progress_as_of(
    engine: Engine,
    programme_id: str,
    at: date,
    reads: ReadStore | None = None,
    folder: Path | None = None,
) -> list[TargetProgress]:
    """Programme progress from the decisions that had taken effect by ``at``. Given the live
    read models, from the month-end checkpoints (kept in ``folder``, by default beside an
    SQLite read store) and the remainder; without them, from every event."""
    return progress_by_date(engine, programme_id, [at], reads, folder)[at]


def progress_by_date(
    engine: Engine,
    programme_id: str,
    days: list[date],
    reads: ReadStore | None = None,
    folder: Path | None = None,
) -> dict[date, list[TargetProgress]]:
    """Programme progress as of each of ``days`` (see ``progress_as_of``)."""
    found = {}
    with InEffect(engine, reads, folder) as in_effect:
        for day in days:
            with in_effect.by(day) as store:
                found[day] = programme_progress(store, programme_id)
    return found


# -- what if ------------------------------------------------------------------------------


@dataclass
class Replayed:
    version: int
    step: str
    outcome: str  # "kept", "replaced", "removed", or "refused: why"


@dataclass
class WhatIf:
    initiative_id: str
    from_version: int
    replayed: list[Replayed] = field(default_factory=list)
    state_changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    progress_changes: dict[str, dict[str, Any]] = field(default_factory=dict)


def what_if(
    engine: Engine, initiative_id: str, from_version: int, replacement: Command | None
) -> WhatIf:
    """Fork the record in a sandbox: replace (or remove) decision ``from_version`` of the
    initiative, decide every later one again through today's rules, and compare the
    initiative and the programme's progress with the live record. Nothing live is written."""
    live = engine.initiative(initiative_id)
    if not 2 <= from_version <= live.version:
        raise NotFoundError(
            f"choose a decision from version 2 to {live.version} of '{initiative_id}' "
            "(version 1 is the proposal itself)"
        )
    if replacement is not None and replacement.subject_id != initiative_id:
        raise KringloopError(
            N_("the replacement must decide on '{initiative}'"), initiative=initiative_id
        )
    report = WhatIf(initiative_id, from_version)
    sandbox = Engine(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=engine.clock)
    later = _copy_record(engine, sandbox, live.id, from_version)
    forked = sandbox.initiative(initiative_id)
    if replacement is not None:
        try:
            sandbox.execute(replacement)
            report.replayed.append(Replayed(from_version, replacement.command, "replaced"))
        except KringloopError as error:
            report.replayed.append(Replayed(from_version, replacement.command, f"refused: {error}"))
        forked = sandbox.initiative(initiative_id)
    else:
        report.replayed.append(Replayed(from_version, type(later[0]).__name__, "removed"))
    programme = sandbox.programme(forked.programme_id)
    for event in later[1:]:
        try:
            decided = event.decision  # the decider's authority then, as it was decided
            subject = policy.Subject("initiative", programme=programme, stream=forked.stream)
            policy.authorise(subject, sandbox.register(), decided, decided.effective)
            with recorded_commands(sandbox.applied_command):  # a correction names one
                redecide(forked, event)
            report.replayed.append(Replayed(event.originator_version, type(event).__name__, "kept"))
        except KringloopError as error:
            report.replayed.append(
                Replayed(event.originator_version, type(event).__name__, f"refused: {error}")
            )
    sandbox.save(forked)
    report.state_changes = _differences(initiative_state(live), initiative_state(forked))
    report.progress_changes = _progress_changes(engine, sandbox, live.programme_id)
    sandbox.close()
    return report


def _copy_record(engine: Engine, sandbox: Engine, target: Any, from_version: int) -> list[Any]:
    """Copy every event into the sandbox except the target's from ``from_version`` on,
    which are returned."""
    later, position = [], 0
    while notifications := engine.recorder.select_notifications(
        start=position, limit=5000, inclusive_of_start=False
    ):
        position = notifications[-1].id
        events = [engine.mapper.to_domain_event(n) for n in notifications]
        keep = []
        for e in events:
            if e.originator_id == target and e.originator_version >= from_version:
                later.append(e)
            else:
                keep.append(e)
        sandbox.events.put(keep)
    return later


def _differences(before: InitiativeState, after: InitiativeState) -> dict[str, dict[str, Any]]:
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    return {k: {"live": old[k], "what_if": new[k]} for k in old if old[k] != new[k]}


def _progress_changes(engine: Engine, sandbox: Engine, programme_id: str) -> dict[str, Any]:
    with sandbox_store() as live_store, sandbox_store() as fork_store:
        project_all(engine, live_store)
        project_all(sandbox, fork_store)
        live = {t.key: t for t in programme_progress(live_store, programme_id)}
        fork = {t.key: t for t in programme_progress(fork_store, programme_id)}
    return {
        key: {"live": live[key].current, "what_if": fork[key].current}
        for key in live
        if key in fork and live[key].current != fork[key].current
    }
