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
from domain.errors import EffectiveDateError, Message, NoAuthorityError, NoMandateError, Term
from domain.messages import N_
from domain.programme import ALL_STREAMS, Programme
from domain.record import record_word
from domain.values import AuthorityRole, Decision

if TYPE_CHECKING:
    from domain.commands.base import Command
    from domain.record import DecisionRecord

BOOTSTRAP = "bootstrap: the register's first decision, by the operator"
NO_REGISTER = N_(
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
            N_("effective date {day} lies before programme '{programme}' existed ({founded})"),
            day=decision.effective,
            programme=programme.programme_id,
            founded=programme.founded,
        )
    basis = _basis(subject, register, decision.actor, decision.effective)
    recorder = decision.recorder
    if recorder != decision.actor or decision.effective != today:
        try:
            recorded_under = _basis(subject, register, recorder, today, recording=True)
        except (NoAuthorityError, NoMandateError) as refusal:
            raise type(refusal)(
                N_("recorded today by '{recorder}', who needs authority today: {refusal}"),
                recorder=recorder,
                refusal=refusal,
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
            N_(
                "'{who}' may not decide for '{organisation}' on {day}: that needs the role "
                "{manager} ({manager_periods}) or the role {organisation_role} for "
                "'{organisation}' ({organisation_periods})"
            ),
            who=who,
            organisation=subject.organisation,
            day=day,
            manager=Term("role", AuthorityRole.MANAGER),
            manager_periods=register.periods(who, AuthorityRole.MANAGER),
            organisation_role=Term("role", AuthorityRole.ORGANISATION),
            organisation_periods=register.periods(who, AuthorityRole.ORGANISATION),
        )
    raise NoAuthorityError(
        N_(
            "'{who}' holds no role {manager} on {day}, which {group} decisions need "
            "({manager}: {periods})"
        ),
        who=who,
        manager=Term("role", AuthorityRole.MANAGER),
        day=day,
        group=record_word(subject.group),
        periods=register.periods(who, AuthorityRole.MANAGER),
    )


def _mandate(programme: Programme, stream: str, who: str, day: date) -> str:
    found = programme.mandate_of(who, stream, day)
    if found is None:
        held = [
            Message(N_("for {stream} {period}"), stream=covering, period=period_words(start, end))
            for covering in _covering(programme, stream)
            for start, end, *_ in programme.mandates.get(who, {}).get(covering, [])
        ]
        raise NoMandateError(
            N_("'{who}' holds no mandate for stream '{stream}' on {day} (mandates held: {held})"),
            who=who,
            stream=Term("stream", stream),
            day=day,
            held=_semicolons(held),
        )
    return found


def mandate_refusal(
    programme: Programme, stream: str, who: str, day: date
) -> NoMandateError | None:
    """Why ``who`` may not decide on ``stream`` on ``day`` for want of a mandate, or None
    when a mandate covers it: a door offers no form the engine would refuse for it."""
    try:
        _mandate(programme, stream, who, day)
    except NoMandateError as refusal:
        return refusal
    return None


def _semicolons(items: list[Message]) -> Message:
    """Items as one parameter, "a; b; c"; "none, ever" when there are none."""
    if not items:
        return Message(N_("none, ever"))
    found = items[0]
    for item in items[1:]:
        found = Message(N_("{first}; {second}"), first=found, second=item)
    return found


def _covering(programme: Programme, stream: str) -> list[str]:
    """The mandates that would cover a stream: its own, its parent's, every stream's."""
    parent = programme.streams.get(stream, {}).get("parent")
    return [s for s in (stream, parent, ALL_STREAMS) if s]


def mandate_period(start: date, end: date | None) -> str:
    """A mandate's period in words, with the last day it holds: it is revoked from ``end``,
    so ``end`` itself is the first day without it."""
    return str(period_words(start, end))


def period_words(start: date, end: date | None) -> Message:
    """``mandate_period`` as a message, for a door to show in its reader's language."""
    if end is None:
        return Message(N_("from {start}, no end"), start=start)
    if end <= start:
        return Message(N_("granted and revoked on {start} (never held)"), start=start)
    return Message(N_("from {start}, last day {last}"), start=start, last=end - timedelta(days=1))
