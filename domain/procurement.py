"""Circular procurement (spearhead 1): procurement commitments of member organisations, and
communities of practice where heads of procurement learn together and start joint
procurement trajectories."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.errors import AlreadyExistsError, NotFoundError, RuleError, Term
from domain.messages import N_
from domain.record import DecisionRecord, forget_applied_commands
from domain.values import Decision

COMMITMENT_NAMESPACE = UUID("2f8a4c1e-5b7d-4e2a-9c3f-7d1e0a9b8c03")
COMMUNITY_NAMESPACE = UUID("9d3b7e2a-1c4f-4a6e-8b5d-3e2f1a0c9d04")


class Commitment(DecisionRecord):
    """One organisation's commitment to buy circular along a path (10 % in 2022, ...)."""

    class_version = 2  # version 2 no longer keeps the applied-command index
    upcast_v1_v2 = staticmethod(forget_applied_commands)

    keeps_effective_order = False  # spend reports for past years arrive in any order

    @staticmethod
    @lru_cache(maxsize=65536)
    def create_id(commitment_id: str) -> UUID:
        return uuid5(COMMITMENT_NAMESPACE, commitment_id)

    @event("Committed")
    def __init__(
        self,
        commitment_id: str,
        programme_id: str,
        organisation: str,
        organisation_kind: str,
        path: list[dict[str, Any]],
        decision: Decision,
    ) -> None:
        years = [p["year"] for p in path if p.get("year") is not None]
        if years != sorted(set(years)):
            raise RuleError(N_("the path's years must rise, each year once"))
        if any(p.get("year") is None for p in path[:-1]):
            raise RuleError(
                N_(
                    "only the path's last step can be an open goal without a year "
                    "(e.g. 100 % as soon as possible after the last dated step)"
                )
            )
        shares = [p["share"] for p in path]
        if shares != sorted(shares):
            raise RuleError(N_("the path's circular shares must not fall over the years"))
        self.commitment_id = commitment_id
        self.programme_id = programme_id
        self.organisation = organisation
        self.organisation_kind = organisation_kind
        self.path = [dict(p) for p in path]
        self.committed_on: date = decision.effective
        self.categories: list[str] = []
        self.reports: dict[str, dict[str, Any]] = {}
        self.last_effective = decision.effective

    @event("CategoryAdopted")
    def adopt_category(self, category: str, decision: Decision) -> None:
        if category in self.categories:
            raise AlreadyExistsError(
                N_("'{organisation}' already adopted '{category}'"),
                organisation=self.organisation,
                category=Term("category", category),
            )
        self.categories.append(category)

    @event("SpendReported")
    def report_spend(
        self,
        year: int,
        category: str,
        total_spend_eur: float,
        circular_spend_eur: float,
        investment_eur: float,
        decision: Decision,
    ) -> None:
        if circular_spend_eur > total_spend_eur:
            raise RuleError(
                N_("circular spend (EUR {circular}) cannot exceed total spend (EUR {total})"),
                circular=float(round(circular_spend_eur)),
                total=float(round(total_spend_eur)),
            )
        if year < self.committed_on.year:
            raise RuleError(
                N_("cannot report spend for {year}: '{organisation}' committed in {committed}"),
                year=year,
                organisation=self.organisation,
                committed=self.committed_on.year,
            )
        self.reports[f"{year}:{category}"] = {
            "year": year,
            "category": category,
            "total_spend_eur": total_spend_eur,
            "circular_spend_eur": circular_spend_eur,
            "investment_eur": investment_eur,
        }


class Community(DecisionRecord):
    """A community of practice, moderated by the board: members, meetings, trajectories."""

    class_version = 2  # version 2 no longer keeps the applied-command index
    upcast_v1_v2 = staticmethod(forget_applied_commands)

    keeps_effective_order = False

    @staticmethod
    @lru_cache(maxsize=65536)
    def create_id(community_id: str) -> UUID:
        return uuid5(COMMUNITY_NAMESPACE, community_id)

    @event("Founded")
    def __init__(
        self, community_id: str, programme_id: str, name: str, moderator: str, decision: Decision
    ) -> None:
        self.community_id = community_id
        self.programme_id = programme_id
        self.name = name
        self.moderator = moderator
        self.members: dict[str, str] = {}
        self.meetings: dict[str, dict[str, Any]] = {}
        self.trajectories: dict[str, dict[str, Any]] = {}
        self.last_effective = decision.effective

    @event("MemberJoined")
    def admit(
        self, organisation: str, role: str, decision: Decision, organisation_kind: str = "other"
    ) -> None:
        self.members[organisation] = role  # the kind is for the read models; no rule uses it

    @event("MeetingHeld")
    def hold_meeting(
        self, meeting: int, attendees: list[str], decision: Decision, topic: str = ""
    ) -> None:
        strangers = [a for a in attendees if a not in self.members]
        if strangers:
            raise NotFoundError(
                N_("not members of community '{community}': {strangers}"),
                community=self.community_id,
                strangers=strangers,
            )
        if str(meeting) in self.meetings:
            raise AlreadyExistsError(N_("meeting {meeting} is already recorded"), meeting=meeting)
        self.meetings[str(meeting)] = {
            "on": decision.effective,
            "attendees": list(attendees),
            "topic": topic,
        }

    @event("JointTrajectoryStarted")
    def start_trajectory(
        self,
        trajectory: str,
        category: str,
        participants: list[str],
        invested_eur: float,
        decision: Decision,
    ) -> None:
        strangers = [p for p in participants if p not in self.members]
        if strangers:
            raise NotFoundError(
                N_("not members of community '{community}': {strangers}"),
                community=self.community_id,
                strangers=strangers,
            )
        if len(set(participants)) < 2:
            raise RuleError(N_("a joint procurement trajectory needs at least two participants"))
        if trajectory in self.trajectories:
            raise AlreadyExistsError(
                N_("trajectory '{trajectory}' is already started"), trajectory=trajectory
            )
        self.trajectories[trajectory] = {
            "category": category,
            "participants": list(participants),
            "invested_eur": invested_eur,
            "started_on": decision.effective,
        }
