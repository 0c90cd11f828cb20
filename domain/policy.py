"""Who may decide what: the authority a decision rests on, checked when it is taken.

The decider (``actor``) needs authority on the effective date; whoever records it
(``recorded_by``, the actor unless a late entry names someone else) needs authority on the
day it is recorded. Initiative decisions rest on a broker's mandate for the stream (a
manager may record them, not take them);
programme, community and authority decisions on the manager role; a commitment's decisions
on the manager role or on the organisation role of the organisation that committed. The
answer is written into the decision itself, so the record says what each one rested on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

from domain.authority import Authority
from domain.errors import EffectiveDateError, NoAuthorityError, NoMandateError
from domain.programme import ALL_STREAMS, Programme
from domain.values import AuthorityRole, Decision

if TYPE_CHECKING:
    from domain.commands.base import Command
    from domain.record import DecisionRecord

BOOTSTRAP = "bootstrap: the register's first decision, by the operator"
NO_REGISTER = (
    "no authority register yet: the operator starts it once with "
    "`kringloop init --manager NAME`, naming the first manager"
)


@dataclass(frozen=True)
class Subject:
    """What a command decides on, as far as authority is concerned."""

    group: str  # programme, initiative, commitment, community, authority
    programme: Programme | None = None
    stream: str | None = None  # an initiative's stream
    organisation: str | None = None  # the organisation that committed (a commitment)
    bootstrap: bool = False  # the command starts the register


def subject_of(
    command: Command, aggregate: DecisionRecord | None, programme: Callable[[str], Programme]
) -> Subject:
    """What a command decides on, from the command (when it creates its aggregate) or the
    aggregate it decides on; ``programme`` loads a programme by id."""
    facts = vars(command) if aggregate is None else vars(aggregate)
    group = command.group
    if group == "authority":
        return Subject(group, bootstrap=command.creates)
    if group == "programme":
        return Subject(
            group, programme=None if aggregate is None else programme(command.subject_id)
        )
    found = programme(str(facts["programme_id"]))
    if group == "initiative":
        stream = str(facts["stream"])
        if aggregate is None:  # proposing needs the stream to exist
            found.check_stream(stream)
        return Subject(group, programme=found, stream=stream)
    return Subject(group, programme=found, organisation=facts.get("organisation"))


def authorise(
    subject: Subject, register: Authority | None, decision: Decision, today: date
) -> Decision:
    """The decision with the authority it rests on written in; refuses without one."""
    if subject.bootstrap:
        return replace(decision, authority=BOOTSTRAP)
    programme = subject.programme
    if programme is not None and decision.effective < programme.founded:
        raise EffectiveDateError(
            f"effective date {decision.effective.isoformat()} lies before programme "
            f"'{programme.programme_id}' existed ({programme.founded.isoformat()})"
        )
    basis = _basis(subject, register, decision.actor, decision.effective)
    recorder = decision.recorder
    if recorder != decision.actor or decision.effective != today:
        try:
            recorded_under = _basis(subject, register, recorder, today, recording=True)
        except (NoAuthorityError, NoMandateError) as refusal:
            raise type(refusal)(
                f"recorded today by '{recorder}', who needs authority today: {refusal}"
            ) from None
        if recorder != decision.actor:
            basis += f"; recorded by {recorder} under {recorded_under}"
    return replace(decision, authority=basis)


def _basis(
    subject: Subject, register: Authority | None, who: str, day: date, recording: bool = False
) -> str:
    """What ``who`` may decide (or, ``recording``, enter) on ``day``, in words; refuses."""
    if subject.group == "initiative" and subject.programme and subject.stream:
        # a manager may enter a broker's paperwork; only a mandate lets one decide
        manager = register.grant_of(who, AuthorityRole.MANAGER, day) if register else None
        if recording and manager is not None:
            return f"role manager (decision {manager})"
        return _mandate(subject.programme, subject.stream, who, day)
    if register is None:
        raise NoAuthorityError(NO_REGISTER)
    manager = register.grant_of(who, AuthorityRole.MANAGER, day)
    if manager is not None:
        return f"role manager (decision {manager})"
    if subject.group == "commitment" and subject.organisation:
        speaks = register.grant_of(who, AuthorityRole.ORGANISATION, day, subject.organisation)
        if speaks is not None:
            return f"role organisation for {subject.organisation} (decision {speaks})"
        raise NoAuthorityError(
            f"'{who}' may not decide for '{subject.organisation}' on {day.isoformat()}: that "
            f"needs the role manager ({register.periods(who, AuthorityRole.MANAGER)}) or the "
            f"role organisation for '{subject.organisation}' "
            f"({register.periods(who, AuthorityRole.ORGANISATION)})"
        )
    raise NoAuthorityError(
        f"'{who}' holds no role manager on {day.isoformat()}, which {subject.group} decisions "
        f"need (manager: {register.periods(who, AuthorityRole.MANAGER)})"
    )


def _mandate(programme: Programme, stream: str, who: str, day: date) -> str:
    found = programme.mandate_of(who, stream, day)
    if found is None:
        held = [
            f"for {covers} {mandate_period(start, end)}"
            for covers in _covering(programme, stream)
            for start, end, *_ in programme.mandates.get(who, {}).get(covers, [])
        ]
        raise NoMandateError(
            f"'{who}' holds no mandate for stream '{stream}' on {day.isoformat()} "
            f"(mandates held: {'; '.join(held) or 'none, ever'})"
        )
    return found


def _covering(programme: Programme, stream: str) -> list[str]:
    """The mandates that would cover a stream: its own, its parent's, every stream's."""
    parent = programme.streams.get(stream, {}).get("parent")
    return [s for s in (stream, parent, ALL_STREAMS) if s]


def mandate_period(start: date, end: date | None) -> str:
    """A mandate's period in words, with the last day it holds: it is revoked from ``end``,
    so ``end`` itself is the first day without it."""
    if end is None:
        return f"from {start.isoformat()}, no end"
    if end <= start:
        return f"granted and revoked on {start.isoformat()} (never held)"
    return f"from {start.isoformat()}, last day {(end - timedelta(days=1)).isoformat()}"
