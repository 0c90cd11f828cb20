"""Who may decide what, as a record of its own: the roles granted and revoked by decisions.

One register per store. Its first decision is the bootstrap (``kringloop init --manager``):
the one decision no authority precedes. From then on a manager grants and revokes roles
(manager, broker, auditor, organisation) with an effective date, like a mandate, and every
decision names the grant it rested on.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.errors import Message, NotFoundError, RuleError, Term
from domain.messages import N_
from domain.personal import Personal
from domain.record import DecisionRecord, forget_applied_commands
from domain.values import AuthorityRole, Decision

AUTHORITY_NAMESPACE = UUID("5e1d2c3b-4a59-4f68-8e77-9d6c5b4a3f05")
REGISTER = "register"  # the one register's id


class Authority(DecisionRecord):
    """The roles of every identity over time: identity -> role -> periods."""

    class_version = 2  # version 2 no longer keeps the applied-command index
    upcast_v1_v2 = staticmethod(forget_applied_commands)

    keeps_effective_order = False  # grants are often entered after the fact

    @staticmethod
    @lru_cache(maxsize=16)
    def create_id(authority_id: str = REGISTER) -> UUID:
        return uuid5(AUTHORITY_NAMESPACE, authority_id)

    @event("Initialised")
    def __init__(self, authority_id: str, manager: str, decision: Decision) -> None:
        self.authority_id = authority_id
        self.roles: dict[str, dict[str, list[list[Any]]]] = {}
        self.people: dict[str, Personal] = {}  # identity -> the person's name, sealed
        self.forgotten: dict[str, dict[str, Any]] = {}  # subject -> when, on which request
        self.last_effective = decision.effective
        self._add(manager, AuthorityRole.MANAGER, "", decision)

    @event("RoleGranted")
    def grant_role(self, identity: str, role: str, organisation: str, decision: Decision) -> None:
        self.refuse_forgotten(identity)
        if role == AuthorityRole.ORGANISATION and not organisation:
            raise RuleError(N_("an organisation role names the organisation it speaks for"))
        if role != AuthorityRole.ORGANISATION and organisation:
            raise RuleError(
                N_("only an organisation role names an organisation (not {role})"),
                role=Term("role", role),
            )
        periods = self.roles.get(identity, {}).get(role, [])
        if periods and periods[-1][1] is None:
            raise RuleError(
                N_("'{identity}' already holds the role {role} since {since}"),
                identity=identity,
                role=Term("role", role),
                since=periods[-1][0],
            )
        self._add(identity, role, organisation, decision)

    @event("RoleRevoked")
    def revoke_role(self, identity: str, role: str, decision: Decision) -> None:
        periods = self.roles.get(identity, {}).get(role, [])
        if not periods or periods[-1][1] is not None:
            raise NotFoundError(
                N_("'{identity}' holds no role {role} to revoke"),
                identity=identity,
                role=Term("role", role),
            )
        if decision.effective < periods[-1][0]:
            raise RuleError(
                N_(
                    "cannot revoke the role {role} of '{identity}' from {day}: it was granted "
                    "from {since}"
                ),
                role=Term("role", role),
                identity=identity,
                day=decision.effective,
                since=periods[-1][0],
            )
        periods[-1][1] = decision.effective

    @event("PersonNamed")
    def name_person(self, identity: str, name: Personal, decision: Decision) -> None:
        """The natural person behind an identity (their name is personal data: sealed with
        their own key, erasable)."""
        self.refuse_forgotten(identity)
        self.people[identity] = name

    @event("SubjectForgotten")
    def forget_subject(self, subject: str, request: str, decision: Decision) -> None:
        """The subject's personal data is erased (their key destroyed, by the adapters once
        this decision is recorded): from now on it shows as erased everywhere."""
        self.refuse_forgotten(subject)
        if subject not in self.people and subject not in self.roles:
            raise NotFoundError(
                N_("'{subject}' is not in the authority register: nothing to forget"),
                subject=subject,
            )
        self.forgotten[subject] = {
            "on": decision.effective,
            "request": request,
            "command_id": decision.command_id,
        }

    def refuse_forgotten(self, subject: str) -> None:
        found = self.forgotten.get(subject)
        if found is not None:
            raise RuleError(
                N_(
                    "the personal data of '{subject}' was erased on {day} (request {request}); "
                    "a person who returns gets a new identity"
                ),
                subject=subject,
                day=found["on"],
                request=found["request"],
            )

    def _add(self, identity: str, role: str, organisation: str, decision: Decision) -> None:
        periods = self.roles.setdefault(identity, {}).setdefault(role, [])
        periods.append([decision.effective, None, organisation, decision.command_id])

    def grant_of(
        self, identity: str, role: str, on: date, organisation: str | None = None
    ) -> str | None:
        """The command id of the grant by which the identity held the role on that day (for
        an organisation role: speaking for that organisation), or None."""
        for start, end, speaks_for, command_id in self.roles.get(identity, {}).get(role, []):
            held = start <= on and (end is None or on < end)
            if held and organisation in (None, speaks_for):
                return str(command_id)
        return None

    def roles_of(self, identity: str, on: date) -> list[str]:
        """Every role the identity holds on that day."""
        return sorted(r for r in self.roles.get(identity, {}) if self.grant_of(identity, r, on))

    def periods(self, identity: str, role: str) -> Message | list[Message]:
        """The identity's periods in the role, in words, for a refusal (a parameter)."""
        found = self.roles.get(identity, {}).get(role, [])
        if not found:
            return Message(N_("never held"))
        return [
            Message(N_("from {start} until {end} (not incl.)"), start=start, end=end)
            if end
            else Message(N_("from {start}"), start=start)
            for start, end, *_ in found
        ]
