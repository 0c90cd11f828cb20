"""Commands of circular procurement: commitments, spend reports, communities of practice."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from domain.commands.base import Command, Figure, Name, Percentage, Slug, Text
from domain.procurement import Commitment, Community
from domain.values import Decision, OrganisationKind

PROCUREMENT_CATEGORIES = (
    "construction",
    "asphalt",
    "concrete-paving",
    "office-furnishing",
    "catering",
    "ict",
    "traffic-signs",
    "textiles",
    "cleaning",
    "energy",
    "vehicles",
    "other",
)


class CommitmentCommand(Command):
    group: ClassVar[str] = "commitment"
    cli_group: ClassVar[str] = "procurement"

    commitment_id: Slug = Field(description="usually the organisation's slug")

    def decide(self, commitment: Commitment, decision: Decision) -> None:
        raise NotImplementedError


class PathStep(BaseModel):
    """The circular share of procurement spend an organisation commits to by a year; a last
    step without a year is an open goal ("100 % as soon as possible after")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    year: int | None = Field(default=None, ge=2000, le=2100)
    share: Percentage


class Commit(CommitmentCommand):
    """Commit an organisation to buy circular along a path (e.g. 10 % 2022, 50 % 2025, then
    100 % as soon as possible)."""

    command: ClassVar[str] = "commit"
    step: ClassVar[str] = "commit"
    creates: ClassVar[bool] = True
    programme_id: Slug
    organisation: Name
    organisation_kind: OrganisationKind
    path: list[PathStep] = Field(
        min_length=1,
        max_length=20,
        description="the circular share of spend (percent) by each year; a last step "
        "without a year is the open goal",
        examples=[[{"year": 2022, "share": 10}, {"year": 2025, "share": 50}, {"share": 100}]],
    )

    def create(self, decision: Decision) -> Commitment:
        return Commitment(
            commitment_id=self.commitment_id,
            programme_id=self.programme_id,
            organisation=self.organisation,
            organisation_kind=str(self.organisation_kind),
            path=[p.model_dump() for p in self.path],
            decision=decision,
        )


class AdoptCategory(CommitmentCommand):
    """Adopt a purchase category of the regional roadmap."""

    command: ClassVar[str] = "adopt-category"
    step: ClassVar[str] = "adopt_category"
    category: Slug = Field(description="e.g. " + ", ".join(PROCUREMENT_CATEGORIES[:6]))

    def decide(self, commitment: Commitment, decision: Decision) -> None:
        commitment.adopt_category(category=self.category, decision=decision)


class ReportSpend(CommitmentCommand):
    """Report a year's spend in a category: total, circular, and investment."""

    command: ClassVar[str] = "report-spend"
    step: ClassVar[str] = "report_spend"
    year: int = Field(ge=2000, le=2100)
    category: Slug
    total_spend_eur: Figure
    circular_spend_eur: Figure
    investment_eur: Figure = 0

    def decide(self, commitment: Commitment, decision: Decision) -> None:
        commitment.report_spend(
            year=self.year,
            category=self.category,
            total_spend_eur=self.total_spend_eur,
            circular_spend_eur=self.circular_spend_eur,
            investment_eur=self.investment_eur,
            decision=decision,
        )


class CommunityCommand(Command):
    group: ClassVar[str] = "community"
    cli_group: ClassVar[str] = "procurement"

    community_id: Slug

    def decide(self, community: Community, decision: Decision) -> None:
        raise NotImplementedError


class FoundCommunity(CommunityCommand):
    """Found a community of practice of procurement leads, moderated by the board."""

    command: ClassVar[str] = "found-community"
    step: ClassVar[str] = "found"
    creates: ClassVar[bool] = True
    programme_id: Slug
    name: Name
    moderator: Name

    def create(self, decision: Decision) -> Community:
        return Community(
            community_id=self.community_id,
            programme_id=self.programme_id,
            name=self.name,
            moderator=self.moderator,
            decision=decision,
        )


class JoinCommunity(CommunityCommand):
    """A procurement lead's organisation joins the community."""

    command: ClassVar[str] = "join-community"
    step: ClassVar[str] = "admit"
    organisation: Name
    role: Name = "head of procurement"
    organisation_kind: OrganisationKind = Field(
        default=OrganisationKind.OTHER,
        description="government, company or knowledge institute: who the member speaks for",
    )
    added_later: ClassVar[frozenset[str]] = frozenset({"organisation_kind"})

    def decide(self, community: Community, decision: Decision) -> None:
        community.admit(
            organisation=self.organisation,
            role=self.role,
            decision=decision,
            organisation_kind=str(self.organisation_kind),
        )


class HoldMeeting(CommunityCommand):
    """Record a meeting of the community and who attended."""

    command: ClassVar[str] = "hold-meeting"
    step: ClassVar[str] = "hold_meeting"
    meeting: int = Field(ge=1, le=1000)
    attendees: list[Name] = Field(min_length=1, max_length=500)
    topic: Text = Field(default="", description="what the meeting was about")
    added_later: ClassVar[frozenset[str]] = frozenset({"topic"})

    def decide(self, community: Community, decision: Decision) -> None:
        community.hold_meeting(
            meeting=self.meeting,
            attendees=list(self.attendees),
            decision=decision,
            topic=self.topic,
        )


class StartJointTrajectory(CommunityCommand):
    """Start a joint procurement trajectory from the community: a category, who buys
    together, and the investment."""

    command: ClassVar[str] = "start-trajectory"
    step: ClassVar[str] = "start_trajectory"
    former_names: ClassVar[tuple[str, ...]] = ("start-joint-trajectory",)
    trajectory: Slug
    category: Slug
    participants: list[Name] = Field(min_length=2, max_length=500)
    invested_eur: Figure = 0

    def decide(self, community: Community, decision: Decision) -> None:
        community.start_trajectory(
            trajectory=self.trajectory,
            category=self.category,
            participants=list(self.participants),
            invested_eur=self.invested_eur,
            decision=decision,
        )
