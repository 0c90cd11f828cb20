"""The programme: its members, phases, targets, resource streams, broker mandates, and which
of its decisions it publishes actively (Woo)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any, ClassVar
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.errors import AlreadyExistsError, Message, NotFoundError, RuleError, Term
from domain.initiative import Initiative
from domain.messages import N_
from domain.procurement import Commitment, Community
from domain.record import DecisionRecord, forget_applied_commands, record_word
from domain.values import Decision, PhaseStatus

ALL_STREAMS = "all"  # a mandate on every stream, e.g. for the programme's scheduled checks
PROGRAMME_NAMESPACE = UUID("6c7e0f4e-3f0b-4c55-9a55-1f1d3c0a7a01")
EVERY_DECISION = "*"  # "initiative:*": every decision on that kind of record


class Programme(DecisionRecord):
    """A regional transition programme, directed by its board."""

    class_version = 2  # version 2 no longer keeps the applied-command index
    upcast_v1_v2 = staticmethod(forget_applied_commands)

    keeps_effective_order = False  # programme history is often entered out of order
    decided_by: ClassVar[dict[str, str]] = {"PublicationSet": "decide_publication"}
    public_kinds: list[str] | None = None  # None: not decided (a snapshot from before, too)

    @staticmethod
    @lru_cache(maxsize=65536)
    def create_id(programme_id: str) -> UUID:
        return uuid5(PROGRAMME_NAMESPACE, programme_id)

    @event("Created")
    def __init__(
        self,
        programme_id: str,
        name: str,
        region: str,
        members: list[str],
        decision: Decision,
        demonstration: bool = False,
    ) -> None:
        self.programme_id = programme_id
        self.name = name
        self.region = region
        self.demonstration = demonstration
        self.founded: date = decision.effective
        self.members: dict[str, str] = dict.fromkeys(members, "other")
        self.phases: dict[str, dict[str, Any]] = {}
        self.targets: dict[str, dict[str, Any]] = {}
        self.streams: dict[str, dict[str, Any]] = {}
        self.mandates: dict[str, dict[str, list[list[Any]]]] = {}
        self.scale_up_criteria: dict[str, Any] = {}
        self.last_effective = decision.effective

    @event("MemberAdded")
    def add_member(self, organisation: str, organisation_kind: str, decision: Decision) -> None:
        self.members[organisation] = organisation_kind

    @event("PhaseChanged")
    def record_phase_change(
        self, phase: int, phase_status: str, approved_by: list[str], decision: Decision
    ) -> None:
        record = self.phases.get(str(phase), {})
        if phase_status == PhaseStatus.STARTED:
            self.check_previous_phase_started(phase)
        elif "started" not in record:
            raise RuleError(
                N_("cannot record phase {phase} as {status}: it was never started"),
                phase=phase,
                status=Term("phase_status", phase_status),
            )
        if phase_status == PhaseStatus.APPROVED and not approved_by:
            raise RuleError(
                N_("cannot approve phase {phase}: name who approved it (approved by)"), phase=phase
            ).concerning("approved_by")
        record[phase_status] = decision.effective.isoformat()
        if approved_by:
            record["approved_by"] = list(approved_by)
        self.phases[str(phase)] = record

    def check_previous_phase_started(self, phase: int) -> None:
        if phase > 1 and "started" not in self.phases.get(str(phase - 1), {}):
            raise RuleError(
                N_("cannot start phase {phase}: phase {previous} has not started"),
                phase=phase,
                previous=phase - 1,
            )

    @property
    def current_phase(self) -> int | None:
        started = [int(p) for p, rec in self.phases.items() if "started" in rec]
        return max(started) if started else None

    class TargetSet(DecisionRecord.Event):
        """Version 2 has ``measure`` (what the read models count towards the target). It was
        added before events were versioned: a version-1 state may or may not hold it.
        Version 3 has ``include_procurement_trajectories``."""

        class_version = 3
        key: str
        description: str
        unit: str
        baseline: float
        target: float
        deadline: date
        source: str
        measure: str | None
        include_procurement_trajectories: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("measure", None)  # set before measures existed: measured by hand

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["include_procurement_trajectories"] = False  # consortia only, as before

    @event(TargetSet)
    def set_target(
        self,
        key: str,
        description: str,
        unit: str,
        baseline: float,
        target: float,
        deadline: date,
        source: str,
        decision: Decision,
        measure: str | None = None,
        include_procurement_trajectories: bool = False,
    ) -> None:
        if include_procurement_trajectories and measure != "chains_redesigned":
            raise RuleError(
                N_(
                    "only a target measured by chains_redesigned can include joint procurement "
                    "trajectories (this one: {measure})"
                ),
                measure=Term("measure", measure)
                if measure
                else Message(N_("measured by the programme")),
            )
        self.targets[key] = {
            "description": description,
            "unit": unit,
            "baseline": baseline,
            "target": target,
            "deadline": deadline,
            "source": source,
            "measure": measure,
            "include_procurement_trajectories": include_procurement_trajectories,
            "measurements": self.targets.get(key, {}).get("measurements", []),
        }

    @event("TargetMeasured")
    def record_target_measurement(
        self, key: str, value: float, source: str, decision: Decision
    ) -> None:
        if key not in self.targets:
            raise NotFoundError(
                N_("no target '{key}' to measure (targets: {known})"),
                key=key,
                known=sorted(self.targets) or Message(N_("none set")),
            )
        self.targets[key]["measurements"].append([decision.effective, value, source])

    @event("ScaleUpCriteriaSet")
    def set_scale_up_criteria(self, criteria: dict[str, Any], decision: Decision) -> None:
        self.scale_up_criteria = dict(criteria)

    @event("StreamRegistered")
    def register_stream(
        self, stream: str, name: str, parent: str | None, decision: Decision
    ) -> None:
        if stream == ALL_STREAMS:
            raise RuleError(
                N_("'{all}' means every stream in a mandate: choose another id"), all=ALL_STREAMS
            )
        if stream in self.streams:
            raise AlreadyExistsError(N_("stream '{stream}' is already registered"), stream=stream)
        if parent is not None and parent not in self.streams:
            raise NotFoundError(
                N_(
                    "cannot register sub-stream '{stream}': parent stream '{parent}' is not "
                    "registered"
                ),
                stream=stream,
                parent=parent,
            )
        if parent is not None and self.streams[parent]["parent"] is not None:
            raise RuleError(
                N_(
                    "cannot register '{stream}' under '{parent}': '{parent}' is itself a sub-stream"
                ),
                stream=stream,
                parent=parent,
            )
        self.streams[stream] = {"name": name, "parent": parent}

    def check_stream(self, stream: str) -> None:
        if stream not in self.streams:
            raise NotFoundError(
                N_("unknown stream '{stream}' (registered: {known})"),
                stream=stream,
                known=sorted(self.streams) or Message(N_("none yet")),
            )

    @event("MandateGranted")
    def grant_mandate(self, broker: str, streams: list[str], decision: Decision) -> None:
        for stream in streams:
            if stream != ALL_STREAMS:
                self.check_stream(stream)
        for stream in streams:
            periods = self.mandates.setdefault(broker, {}).setdefault(stream, [])
            if not periods or periods[-1][1] is not None:
                periods.append([decision.effective, None, decision.command_id])

    @event("MandateRevoked")
    def revoke_mandate(self, broker: str, streams: list[str], decision: Decision) -> None:
        for stream in streams:
            periods = self.mandates.get(broker, {}).get(stream, [])
            if not periods or periods[-1][1] is not None:
                raise RuleError(
                    N_("'{broker}' holds no mandate for stream '{stream}' to revoke"),
                    broker=broker,
                    stream=Term("stream", stream),
                )
            if decision.effective < periods[-1][0]:
                raise RuleError(
                    N_(
                        "cannot revoke the mandate of '{broker}' for '{stream}' from {day}: "
                        "it was granted from {since}"
                    ),
                    broker=broker,
                    stream=Term("stream", stream),
                    day=decision.effective,
                    since=periods[-1][0],
                )
        for stream in streams:
            self.mandates[broker][stream][-1][1] = decision.effective

    def mandate_of(self, broker: str, stream: str, on: date) -> str | None:
        """The mandate the broker held for the stream (or its parent, or every stream) on
        that date, in words with the decision that granted it; None without one."""
        lineage = [stream, ALL_STREAMS]
        parent = self.streams.get(stream, {}).get("parent")
        if parent:
            lineage.append(parent)
        for s in lineage:
            for period in self.mandates.get(broker, {}).get(s, []):
                start, end = period[0], period[1]
                if start <= on and (end is None or on < end):
                    granted = f" (decision {period[2]})" if len(period) > 2 else ""
                    return f"mandate for {s} in {self.programme_id} from {start}{granted}"
        return None

    def decide_publication(self, kinds: list[str], decision: Decision) -> None:
        """Mark which kinds of decision the programme publishes: checked against the
        decisions the code knows today, then recorded (a replay of the event does not
        check again, so a decision renamed later still loads)."""
        for kind in kinds:
            check_publishable(kind)
        self.set_publication(kinds=list(dict.fromkeys(kinds)), decision=decision)

    class PublicationSet(DecisionRecord.Event):
        kinds: list[str]

    @event(PublicationSet)
    def set_publication(self, kinds: list[str], decision: Decision) -> None:
        self.public_kinds = list(kinds)


PUBLISHABLE = ("programme", "initiative", "commitment", "community")
"""The kinds of record whose decisions a programme may publish. Not the authority register:
each of its decisions is about a person (who holds which role, under which name)."""


def decisions_of(record: str) -> list[str]:
    """The decisions (event names) a kind of record takes, as the decision log names them."""
    aggregate: Any = {
        "programme": Programme,
        "initiative": Initiative,
        "commitment": Commitment,
        "community": Community,
    }[record]
    return sorted(
        name
        for name, value in vars(aggregate).items()
        if isinstance(value, type)
        and issubclass(value, aggregate.Event)
        and value is not aggregate.Event
        # the library's default: only the programme records its creation as "Created"
        and (name != "Created" or aggregate is Programme)
    )


def check_publishable(kind: str) -> None:
    """Refuses a kind of decision that does not exist or may not be published; a kind is
    "record:Decision" (initiative:ConsortiumFormed) or "record:*" (every decision)."""
    record, _, decision = kind.partition(":")
    if record == "authority":
        raise RuleError(
            N_(
                "cannot publish '{kind}': the authority register's decisions are about "
                "persons (who holds which role), and persons are not published"
            ),
            kind=kind,
        ).concerning("kinds")
    if record not in PUBLISHABLE or not decision:
        raise RuleError(
            N_(
                "cannot publish '{kind}': write a kind of record and a decision, as in "
                "initiative:ConsortiumFormed, or * for all its decisions, as in programme:* "
                "(kinds of record: {records})"
            ),
            kind=kind,
            records=list(PUBLISHABLE),
        ).concerning("kinds")
    known = decisions_of(record)
    if decision != EVERY_DECISION and decision not in known:
        raise RuleError(
            N_("cannot publish '{kind}': {record} has no decision '{decision}' (it has: {known})"),
            kind=kind,
            record=record_word(record),
            decision=decision,
            known=known,
        ).concerning("kinds")
