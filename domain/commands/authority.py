"""Commands of the authority register: the bootstrap, roles granted and revoked, the persons
behind identities named, and a person's data forgotten (erased)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from domain.authority import REGISTER, Authority
from domain.commands.base import Command, Name
from domain.personal import seal
from domain.values import AuthorityRole, Decision


class AuthorityCommand(Command):
    group: ClassVar[str] = "authority"

    authority_id: Name = Field(default=REGISTER, description="the register (there is one)")

    def decide(self, authority: Authority, decision: Decision) -> None:
        raise NotImplementedError


class Initialise(AuthorityCommand):
    """Start the authority register with its first manager: the one decision that rests on
    no earlier authority (run once, by the operator, as `kringloop init --manager NAME`)."""

    command: ClassVar[str] = "init-authority"
    step: ClassVar[str] = "init"
    former_verbs: ClassVar[tuple[str, ...]] = ("init",)
    creates: ClassVar[bool] = True
    manager: Name = Field(description="the first manager, who grants every other role")

    def create(self, decision: Decision) -> Authority:
        return Authority(authority_id=self.authority_id, manager=self.manager, decision=decision)


class GrantRole(AuthorityCommand):
    """Grant a role from the effective date: manager (runs the programme), broker (decides
    on initiatives within a mandate), auditor (reads and exports), organisation (enters its
    own organisation's procurement figures: name it with --organisation)."""

    command: ClassVar[str] = "grant-role"
    step: ClassVar[str] = "grant_role"
    identity: Name = Field(description="who receives the role (the actor id they decide as)")
    role: AuthorityRole
    organisation: Name | None = Field(
        default=None, description="with role organisation: the organisation it speaks for"
    )

    def decide(self, authority: Authority, decision: Decision) -> None:
        authority.grant_role(
            identity=self.identity,
            role=str(self.role),
            organisation=self.organisation or "",
            decision=decision,
        )


class RevokeRole(AuthorityCommand):
    """Revoke a role from the effective date (the last day it holds is the day before)."""

    command: ClassVar[str] = "revoke-role"
    step: ClassVar[str] = "revoke_role"
    identity: Name
    role: AuthorityRole

    def decide(self, authority: Authority, decision: Decision) -> None:
        authority.revoke_role(identity=self.identity, role=str(self.role), decision=decision)


class NamePerson(AuthorityCommand):
    """Record the natural person behind an identity: their name. It is personal data: sealed
    with the person's own key, shown to those who may read the register, and erased for good
    with `kringloop privacy forget`."""

    command: ClassVar[str] = "name-person"
    step: ClassVar[str] = "name_person"
    personal_fields: ClassVar[frozenset[str]] = frozenset({"name"})
    identity: Name = Field(description="the identity (actor id) the person decides as")
    name: Name = Field(description="the person's name, as shown (personal data)")

    def decide(self, authority: Authority, decision: Decision) -> None:
        authority.name_person(
            identity=self.identity, name=seal(self.identity, self.name), decision=decision
        )


class ForgetSubject(AuthorityCommand):
    """Erase a person's data (AVG article 17): the decision is recorded, then their key is
    destroyed, so that what was sealed with it reads as erased everywhere. Run it as
    `kringloop privacy forget`, which also removes their addresses and links."""

    command: ClassVar[str] = "forget-subject"
    step: ClassVar[str] = "forget_subject"
    subject: Name = Field(description="the identity whose personal data is erased")
    request: Name = Field(description="the request it answers (a case or letter reference)")

    def decide(self, authority: Authority, decision: Decision) -> None:
        authority.forget_subject(subject=self.subject, request=self.request, decision=decision)
