"""Which OpenID provider subject is which Kringloop user: links a manager makes with
`kringloop users link NAME --issuer URL --subject SUB`.

A link is a credential, like a token's hash: it lives in its own table beside
``kringloop_user`` in the read store's database, is no read model (`projections rebuild`
keeps it) and never goes in the event store. A subject nobody linked opens nothing: the
provider vouches for who someone is, a manager decides who that is in Kringloop.
"""

from __future__ import annotations

import secrets
import weakref
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import Engine, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from adapters.accounts import sessions
from adapters.accounts.users import UserRow, active_user
from domain.errors import AlreadyExistsError, InvalidCommandError, NotFoundError

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class OidcLinkRow(SQLModel, table=True):
    __tablename__ = "kringloop_oidc_link"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: str = Field(primary_key=True)  # random; the credential its web sessions are bound to
    issuer: str
    subject: str
    user_name: str = Field(index=True)
    created_at: datetime
    last_login_at: datetime | None = None
    last_acr: str | None = None  # the assurance level of the last login through this link

    @property
    def credential_id(self) -> str:
        return f"oidc:{self.id}"


_ready: weakref.WeakSet[Engine] = weakref.WeakSet()


def create_table(engine: Engine) -> None:
    if engine not in _ready:
        SQLModel.metadata.create_all(engine, tables=[OidcLinkRow.__table__])  # type: ignore[attr-defined]
        _ready.add(engine)


def check_issuer(issuer: str) -> str:
    """An issuer is an https URL (http only on loopback, for tests), written as its tokens'
    ``iss`` writes it."""
    parts = urlsplit(issuer)
    if not parts.netloc or parts.query or parts.fragment:
        raise InvalidCommandError(f"--issuer {issuer!r}: expected the provider's issuer URL")
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
        raise InvalidCommandError(f"--issuer {issuer!r}: an issuer URL is https")
    return issuer


def link_subject(engine: Engine, name: str, issuer: str, subject: str) -> OidcLinkRow:
    """Let ``subject`` at ``issuer`` log in as the active user ``name``."""
    create_table(engine)
    issuer, subject = check_issuer(issuer), subject.strip()
    if not subject or not subject.isprintable() or len(subject) > 255:
        raise InvalidCommandError("--subject: the provider's sub claim, 1 to 255 characters")
    if active_user(engine, name) is None:
        raise NotFoundError(f"no active user '{name}'; `kringloop users add` creates one")
    with Session(engine) as session:
        existing = session.exec(
            select(OidcLinkRow).where(OidcLinkRow.issuer == issuer, OidcLinkRow.subject == subject)
        ).first()
        if existing is not None:
            raise AlreadyExistsError(
                f"subject {subject!r} of {issuer} is already linked to '{existing.user_name}'; "
                "unlink it first"
            )
        row = OidcLinkRow(
            id=secrets.token_hex(16),
            issuer=issuer,
            subject=subject,
            user_name=name,
            created_at=datetime.now(tz=UTC),
        )
        session.add(row)
        session.commit()
        session.refresh(row)
        session.expunge(row)
    return row


def unlink_subject(
    engine: Engine, name: str, issuer: str | None = None, subject: str | None = None
) -> list[OidcLinkRow]:
    """Remove the user's link to ``subject`` at ``issuer``, or every link of the user when
    neither is given, and end the web sessions each opened; return what was removed."""
    create_table(engine)
    if (issuer is None) != (subject is None):
        raise InvalidCommandError("give both --issuer and --subject, or neither (every link)")
    query = select(OidcLinkRow).where(OidcLinkRow.user_name == name)
    if issuer is not None and subject is not None:
        query = query.where(OidcLinkRow.issuer == issuer, OidcLinkRow.subject == subject)
    with Session(engine) as session:
        rows = list(session.exec(query).all())
        if not rows:
            raise NotFoundError(
                f"no link of '{name}'" + (f" to {subject!r} of {issuer}" if issuer else "")
            )
        removed = [OidcLinkRow.model_validate(row.model_dump()) for row in rows]
        for row in rows:
            session.delete(row)
        session.commit()
    for row in removed:
        sessions.end_credential_sessions(engine, row.credential_id)
    return removed


def list_links(engine: Engine, name: str | None = None) -> list[OidcLinkRow]:
    create_table(engine)
    query = select(OidcLinkRow).order_by(col(OidcLinkRow.user_name), col(OidcLinkRow.issuer))
    if name is not None:
        query = query.where(OidcLinkRow.user_name == name)
    with Session(engine) as session:
        return list(session.exec(query).all())


def linked_user(engine: Engine, issuer: str, subject: str) -> tuple[UserRow, OidcLinkRow] | None:
    """The active user this subject is linked to, and the link; None if there is none."""
    create_table(engine)
    with Session(engine) as session:
        link = session.exec(
            select(OidcLinkRow).where(OidcLinkRow.issuer == issuer, OidcLinkRow.subject == subject)
        ).first()
    if link is None:
        return None
    user = active_user(engine, link.user_name)
    return (user, link) if user is not None else None


def record_login(engine: Engine, link: OidcLinkRow, acr: str | None) -> None:
    with Session(engine) as session:
        row = session.get(OidcLinkRow, link.id)
        if row is not None:
            row.last_login_at, row.last_acr = datetime.now(tz=UTC), acr
            session.add(row)
            session.commit()


def link_still_valid(engine: Engine, user_name: str, credential_id: str) -> bool:
    """A web session opened through a link holds while the link and its user do."""
    kind, _, link_id = credential_id.partition(":")
    if kind != "oidc":
        return False
    create_table(engine)
    with Session(engine) as session:
        link = session.get(OidcLinkRow, link_id)
    if link is None or link.user_name != user_name:
        return False
    return active_user(engine, user_name) is not None


sessions.register_credential_kind("oidc", link_still_valid)
