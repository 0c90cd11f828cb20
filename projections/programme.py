"""The programme as its page reads it: its phases, its registered streams with their
sub-streams, the brokers' mandates per stream, and the roles of the authority register (who
may decide what, over which period).

Phases, streams and mandates come from the read models; the roles from the authority
register itself (``domain.authority.Authority``, read by the door from the event store: it
has no read model), turned into rows here so that every door lists them alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta

from pydantic import BaseModel
from sqlmodel import Session, col, select

from domain.authority import Authority
from domain.personal import Personal
from domain.programme import ALL_STREAMS
from domain.values import PhaseStatus
from projections.progress import programme_rows
from projections.store import ReadStore
from projections.tables import MandateRow, ProgrammeRow, StreamRow, TargetRow

PHASES = (1, 2, 3, 4)  # draw up, build, scale up, mainstream (domain.commands.programme)


class PhaseEntry(BaseModel):
    """One of the four phases: the days it started, was approved and completed (None until
    recorded), who approved it, and its latest status (None: not started)."""

    phase: int
    started: date | None
    approved: date | None
    completed: date | None
    approved_by: list[str]
    status: str | None
    current: bool


class StreamEntry(BaseModel):
    """A registered stream with its registered sub-streams (slug -> the registered name)."""

    stream: str
    name: str
    substreams: dict[str, str]


class Period(BaseModel):
    """A mandate or a role held from ``start``; ``last_day`` is the last day it holds (the
    day before the revocation took effect), None while it holds; ``holds`` on the day asked."""

    start: date
    last_day: date | None
    never_held: bool  # granted and revoked from the same day
    holds: bool


class MandateEntry(BaseModel):
    broker: str
    stream: str  # a registered stream, or "all" (every stream)
    every_stream: bool
    periods: list[Period]


Reveal = Callable[[Iterable[Personal]], Mapping[Personal, str | None]]
"""The keyring's reveal (domain.personal.Keyring): each sealed value's clear text, or None."""


class RoleEntry(BaseModel):
    identity: str
    name: str | None = None  # the person behind the identity, as named (personal data)
    erased: bool = False  # their name was recorded, and erased (kringloop privacy forget)
    role: str
    organisation: str  # the organisation an organisation role speaks for, else ""
    periods: list[Period]
    granted_by: list[str]  # the decisions (command ids) that granted each period


def _period(start: date, until: date | None, today: date) -> Period:
    """``until`` is the first day without it (the revocation's effective date)."""
    return Period(
        start=start,
        last_day=until - timedelta(days=1) if until and until > start else None,
        never_held=until is not None and until <= start,
        holds=start <= today and (until is None or today < until),
    )


def phases(store: ReadStore, programme_id: str) -> list[PhaseEntry]:
    """The four phases, recorded or not, in order."""
    with Session(store.engine) as session:
        row = session.get(ProgrammeRow, programme_id)
    recorded: dict[str, dict[str, object]] = json.loads(row.phases) if row else {}
    current = row.current_phase if row else None
    found = []
    for phase in PHASES:
        record = recorded.get(str(phase), {})
        days = {s: _day(record.get(s.value)) for s in PhaseStatus}
        latest = [s.value for s in PhaseStatus if days[s] is not None]
        approved_by = record.get("approved_by") or []
        found.append(
            PhaseEntry(
                phase=phase,
                started=days[PhaseStatus.STARTED],
                approved=days[PhaseStatus.APPROVED],
                completed=days[PhaseStatus.COMPLETED],
                approved_by=[str(a) for a in approved_by] if isinstance(approved_by, list) else [],
                status=latest[-1] if latest else None,
                current=phase == current,
            )
        )
    return found


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def streams(store: ReadStore, programme_id: str) -> list[StreamEntry]:
    """The registered streams, each with its sub-streams (a sub-stream of a sub-stream
    folds into its top stream, as the pipeline does)."""
    with Session(store.engine) as session:
        rows = programme_rows(session, StreamRow, programme_id, col(StreamRow.stream))
    parent = {r.stream: r.parent for r in rows}
    names = {r.stream: r.name for r in rows}

    def top(stream: str) -> str:
        seen = {stream}
        while (up := parent.get(stream)) and up in parent and up not in seen:
            seen.add(up)
            stream = up
        return stream

    found: dict[str, StreamEntry] = {
        r.stream: StreamEntry(stream=r.stream, name=r.name, substreams={})
        for r in rows
        if top(r.stream) == r.stream
    }
    for r in rows:
        if (t := top(r.stream)) != r.stream:
            found[t].substreams[r.stream] = names[r.stream]
    return list(found.values())


def mandates(store: ReadStore, programme_id: str, today: date) -> list[MandateEntry]:
    """Every broker's mandates per stream, with their periods (oldest first)."""
    with Session(store.engine) as session:
        rows = session.exec(
            select(MandateRow)
            .where(MandateRow.programme_id == programme_id)
            .order_by(col(MandateRow.broker), col(MandateRow.stream), col(MandateRow.granted_from))
        ).all()
    found: dict[tuple[str, str], MandateEntry] = {}
    for r in rows:
        entry = found.setdefault(
            (r.broker, r.stream),
            MandateEntry(
                broker=r.broker, stream=r.stream, every_stream=r.stream == ALL_STREAMS, periods=[]
            ),
        )
        entry.periods.append(_period(r.granted_from, r.until, today))
    return list(found.values())


def person_names(
    register: Authority, reveal: Reveal | None, identities: Iterable[str] | None = None
) -> dict[str, tuple[str | None, bool]]:
    """The person behind each identity named in the register (or only these): their name as
    the keyring reveals it, or that it was erased (from the erasure decision on, whether or
    not the key is gone yet). Without ``reveal``, no names: (None, False)."""
    people, forgotten = register.people, register.forgotten
    wanted = people.keys() if identities is None else set(identities) & people.keys()
    shown = [people[i] for i in wanted if i not in forgotten]
    opened = reveal(shown) if reveal is not None and shown else {}
    found: dict[str, tuple[str | None, bool]] = {}
    for identity in wanted:
        name = None if identity in forgotten else opened.get(people[identity])
        erased = identity in forgotten or (reveal is not None and name is None)
        found[identity] = (name, erased)
    return found


def roles(register: Authority | None, today: date, reveal: Reveal | None = None) -> list[RoleEntry]:
    """The authority register's roles: every identity, every role it held, with periods
    (empty before the register was started); with ``reveal`` (the keyring's), the name of
    the person behind each identity, or that it was erased."""
    if register is None:
        return []
    named = person_names(register, reveal)
    found = []
    for identity in sorted(register.roles.keys() | register.people.keys()):
        name, erased = named.get(identity, (None, False))
        held = sorted(register.roles.get(identity, {}).items())
        for role, periods in held or [("", [])]:  # a person named who holds no role: one row
            organisations = sorted({str(p[2]) for p in periods if p[2]})
            found.append(
                RoleEntry(
                    identity=identity,
                    name=name,
                    erased=erased,
                    role=role,
                    organisation=", ".join(organisations),
                    periods=[_period(p[0], p[1], today) for p in periods],
                    granted_by=[str(p[3]) for p in periods],
                )
            )
    return found


def stream_names(store: ReadStore, programme_id: str | None = None) -> dict[str, str]:
    """Every registered stream's name by its slug (of one programme, or of all)."""
    query = select(StreamRow.stream, StreamRow.name)
    if programme_id:
        query = query.where(StreamRow.programme_id == programme_id)
    with Session(store.engine) as session:
        return {
            stream: name for stream, name in session.exec(query.order_by(col(StreamRow.stream)))
        }


def measurement_sources(store: ReadStore, programme_id: str) -> dict[str, str]:
    """Where each target's latest programme measurement comes from, as recorded (by key)."""
    with Session(store.engine) as session:
        rows = programme_rows(session, TargetRow, programme_id, col(TargetRow.key))
    return {r.key: r.measured_source for r in rows if r.measured_source}
