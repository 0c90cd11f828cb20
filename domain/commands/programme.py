"""Commands that shape a programme: members, phases, targets, streams, mandates and which
decisions it publishes."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from domain.commands.base import Command, Day, Figure, Name, Slug, Text
from domain.programme import Programme
from domain.values import Decision, Measure, OrganisationKind, PhaseStatus


class ProgrammeCommand(Command):
    group: ClassVar[str] = "programme"

    programme_id: Slug

    def decide(self, programme: Programme, decision: Decision) -> None:
        raise NotImplementedError


class CreateProgramme(ProgrammeCommand):
    """Create a programme; its effective date is the day it came to exist."""

    command: ClassVar[str] = "create-programme"
    step: ClassVar[str] = "create"
    former_verbs: ClassVar[tuple[str, ...]] = ("create",)
    creates: ClassVar[bool] = True
    name: Name = Field(description="the programme's name")
    region: Name
    members: list[Name] = Field(default_factory=list, max_length=500)
    demonstration: bool = Field(
        default=False,
        description="the programme holds demonstration data: every view says so",
    )
    added_later: ClassVar[frozenset[str]] = frozenset({"demonstration"})

    def create(self, decision: Decision) -> Programme:
        return Programme(
            programme_id=self.programme_id,
            name=self.name,
            region=self.region,
            members=list(self.members),
            decision=decision,
            demonstration=self.demonstration,
        )


class AddMember(ProgrammeCommand):
    """Add a member organisation (municipality, province, company, ...)."""

    command: ClassVar[str] = "add-member"
    step: ClassVar[str] = "add_member"
    organisation: Name
    organisation_kind: OrganisationKind = OrganisationKind.OTHER

    def decide(self, programme: Programme, decision: Decision) -> None:
        programme.add_member(
            organisation=self.organisation,
            organisation_kind=str(self.organisation_kind),
            decision=decision,
        )


class RecordPhaseChange(ProgrammeCommand):
    """Record that a programme phase started, was approved (by whom) or completed."""

    command: ClassVar[str] = "record-phase-change"
    step: ClassVar[str] = "record_phase_change"
    former_verbs: ClassVar[tuple[str, ...]] = ("record-phase",)
    phase: int = Field(ge=1, le=4, description="1 draw up, 2 build, 3 scale up, 4 mainstream")
    phase_status: PhaseStatus
    approved_by: list[Name] = Field(default_factory=list, max_length=100)

    def decide(self, programme: Programme, decision: Decision) -> None:
        programme.record_phase_change(
            phase=self.phase,
            phase_status=str(self.phase_status),
            approved_by=list(self.approved_by),
            decision=decision,
        )


class SetTarget(ProgrammeCommand):
    """Set (or revise) one programme target, in its own unit."""

    command: ClassVar[str] = "set-target"
    step: ClassVar[str] = "set_target"
    key: Slug
    description: Text = ""
    unit: Name
    baseline: float = Field(ge=-1e12, le=1e12, allow_inf_nan=False)
    target: float = Field(ge=-1e12, le=1e12, allow_inf_nan=False)
    deadline: Day
    source: Text = ""
    measure: Measure | None = Field(
        default=None,
        description="what the read models count towards it; without one, the programme "
        "records measurements itself",
    )
    include_procurement_trajectories: bool = Field(
        default=False,
        description="with measure chains_redesigned: count joint procurement trajectories "
        "beside formed consortia (the programme's own decision; views then say so)",
    )
    added_later: ClassVar[frozenset[str]] = frozenset({"include_procurement_trajectories"})

    def decide(self, programme: Programme, decision: Decision) -> None:
        programme.set_target(
            key=self.key,
            description=self.description,
            unit=self.unit,
            baseline=self.baseline,
            target=self.target,
            deadline=self.deadline,
            source=self.source,
            decision=decision,
            measure=self.measure,
            include_procurement_trajectories=self.include_procurement_trajectories,
        )


class RecordTargetMeasurement(ProgrammeCommand):
    """Record a programme-level measurement of a target (e.g. a statistics office figure)."""

    command: ClassVar[str] = "record-target-measurement"
    step: ClassVar[str] = "record_target_measurement"
    key: Slug
    value: float = Field(ge=-1e12, le=1e12, allow_inf_nan=False)
    source: Text = Field(min_length=1, description="where the figure comes from")

    def decide(self, programme: Programme, decision: Decision) -> None:
        programme.record_target_measurement(
            key=self.key, value=self.value, source=self.source, decision=decision
        )


class RegisterStream(ProgrammeCommand):
    """Register a resource stream, or a sub-stream under a parent stream."""

    command: ClassVar[str] = "register-stream"
    step: ClassVar[str] = "register_stream"
    stream: Slug
    name: Name
    parent: Slug | None = None

    def decide(self, programme: Programme, decision: Decision) -> None:
        programme.register_stream(
            stream=self.stream, name=self.name, parent=self.parent, decision=decision
        )


class SetScaleUpCriteria(ProgrammeCommand):
    """Set the phase-3 criteria the scheduled scale-up check applies to every initiative
    after board withdrawal."""

    command: ClassVar[str] = "set-scale-up-criteria"
    step: ClassVar[str] = "set_scale_up_criteria"
    min_months_operating: int = Field(ge=0, le=600, description="since board withdrawal")
    min_tonnes_per_year: Figure = Field(description="latest yearly impact report")
    min_jobs_fte: Figure = Field(default=0)
    no_open_risks: bool = Field(
        default=True, description="not stalled, no escalation, no failed precondition"
    )

    def decide(self, programme: Programme, decision: Decision) -> None:
        programme.set_scale_up_criteria(
            criteria=self.model_dump(
                include={
                    "min_months_operating",
                    "min_tonnes_per_year",
                    "min_jobs_fte",
                    "no_open_risks",
                }
            ),
            decision=decision,
        )


class GrantMandate(ProgrammeCommand):
    """Give a broker the mandate to decide on streams, from the effective date ('all' for
    every stream, e.g. for the programme's scheduled checks)."""

    command: ClassVar[str] = "grant-mandate"
    step: ClassVar[str] = "grant_mandate"
    broker: Name
    streams: list[Slug] = Field(min_length=1, max_length=100)

    def decide(self, programme: Programme, decision: Decision) -> None:
        programme.grant_mandate(broker=self.broker, streams=list(self.streams), decision=decision)


class RevokeMandate(ProgrammeCommand):
    """End a broker's mandate for streams, from the effective date."""

    command: ClassVar[str] = "revoke-mandate"
    step: ClassVar[str] = "revoke_mandate"
    broker: Name
    streams: list[Slug] = Field(min_length=1, max_length=100)

    def decide(self, programme: Programme, decision: Decision) -> None:
        programme.revoke_mandate(broker=self.broker, streams=list(self.streams), decision=decision)


PublicationKind = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=100),
    Field(description="record:Decision, as in initiative:ConsortiumFormed, or record:*"),
]


class SetPublication(ProgrammeCommand):
    """Mark which kinds of decision the programme publishes actively under the Woo, each
    as record:Decision or record:* (all its decisions), e.g. --kinds
    initiative:ConsortiumFormed --kinds programme:*. Until the programme decides this, it
    publishes consortia formed, Board withdrawals and every programme decision. The next
    `kringloop publish` adds the decisions of a kind marked public; what was published
    stays published when its kind is withdrawn. No personal data is published, whatever
    the kinds; the authority register (who holds which role) cannot be marked public."""

    command: ClassVar[str] = "set-publication"
    step: ClassVar[str] = "decide_publication"
    kinds: list[PublicationKind] = Field(
        min_length=1,
        max_length=100,
        description="the kinds of decision published, each record:Decision or record:* "
        "(records: programme, initiative, commitment, community; `kringloop publish kinds` "
        "lists those in force with their titles)",
    )

    def decide(self, programme: Programme, decision: Decision) -> None:
        programme.decide_publication(kinds=list(self.kinds), decision=decision)
