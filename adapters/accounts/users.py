"""Who may use the API: named users with a role and a bearer token, stored hashed.

The table lives in the read store's database but is not a read model: it is created on its
own and is no part of ``projections.store.LIVE_TABLES``, so `projections rebuild` keeps it.
A name is never reused: a revoked user stays listed, and only `reissue_user` gives the name a
new token. Revoking ends every web session of the user; reissuing, every one the old token
opened.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Engine
from sqlmodel import Field, Session, SQLModel, col, select

from adapters.accounts import login_failures, preferences, sessions, tables
from adapters.logs import get_logger
from domain.commands.base import Name
from domain.errors import AlreadyExistsError, InvalidCommandError, NotFoundError
from domain.values import SYSTEM_IDENTITY_PREFIXES

log = get_logger("kringloop.api.users")


class Role(StrEnum):
    BROKER = "broker"
    AUDITOR = "auditor"
    MANAGER = "manager"
    ORGANISATION = "organisation"  # enters its own organisation's procurement figures


class UserRow(SQLModel, table=True):
    __tablename__ = "kringloop_user"

    name: str = Field(primary_key=True)
    role: str
    token_sha256: str = Field(index=True, unique=True)
    created_at: datetime
    revoked_at: datetime | None = None


def create_table(engine: Engine) -> None:
    """The users table, and beside it the tables of their web sessions, their preferences
    and the failed logins the throttle counts."""
    tables.create_tables(
        engine,
        UserRow.__table__,  # type: ignore[attr-defined]
        sessions.SessionRow.__table__,  # type: ignore[attr-defined]
        preferences.PreferenceRow.__table__,  # type: ignore[attr-defined]
    )
    login_failures.create_tables(engine)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def credential_id(user: UserRow) -> str:
    """The user's current token as the credential its web sessions are bound to: derived
    from the token's hash, so it changes with a new token and tells nothing of the token."""
    return "token:" + hashlib.sha256(f"credential:{user.token_sha256}".encode()).hexdigest()[:32]


def _token_still_valid(engine: Engine, name: str, credential: str) -> bool:
    user = active_user(engine, name)
    return user is not None and hmac.compare_digest(credential_id(user), credential)


sessions.register_credential_kind("token", _token_still_valid)


def _new_token() -> str:
    return "kl_" + secrets.token_urlsafe(32)


USER_NAME: TypeAdapter[str] = TypeAdapter(Name)  # a user's name is the actor of decisions


def refuse_system_name(name: str) -> None:
    """A person never gets a system identity's name: it would decide with its mandates."""
    if name.strip().casefold().startswith(SYSTEM_IDENTITY_PREFIXES):
        reserved = ", ".join(SYSTEM_IDENTITY_PREFIXES)
        raise InvalidCommandError(
            f"user name {name!r}: names starting with {reserved} are reserved for the "
            "system's own identities (the scheduled flows); choose another name"
        )


def check_new_name(engine: Engine, name: str) -> str:
    """The name, valid for a new user (an actor name, no system identity, never used
    before), or a refusal saying why."""
    try:
        name = USER_NAME.validate_python(name)
    except ValidationError as error:
        raise InvalidCommandError(f"user name {name!r}: {error.errors()[0]['msg']}") from None
    refuse_system_name(name)
    with Session(engine) as session:
        existing = session.get(UserRow, name)
    if existing is not None and existing.revoked_at is None:
        raise AlreadyExistsError(
            f"user '{name}' exists; `kringloop users reissue {name}` gives it a new token"
        )
    if existing is not None:
        raise AlreadyExistsError(
            f"user '{name}' was revoked and its name is not reused; "
            f"`kringloop users reissue {name}` gives it a new token"
        )
    return name


def add_user(engine: Engine, name: str, role: Role) -> str:
    """Create a user and return its token: shown once, only its hash is kept."""
    name = check_new_name(engine, name)
    token = _new_token()
    with Session(engine) as session:
        session.add(
            UserRow(
                name=name,
                role=role.value,
                token_sha256=token_hash(token),
                created_at=datetime.now(tz=UTC),
            )
        )
        session.commit()
    return token


def list_users(engine: Engine) -> list[UserRow]:
    with Session(engine) as session:
        return list(session.exec(select(UserRow).order_by(col(UserRow.name))).all())


def revoke_user(engine: Engine, name: str) -> None:
    with Session(engine) as session:
        user = session.get(UserRow, name)
        if user is None or user.revoked_at is not None:
            raise NotFoundError(f"no active user '{name}'")
        user.revoked_at = datetime.now(tz=UTC)
        session.add(user)
        session.commit()
    ended = sessions.end_user_sessions(engine, name)  # whatever opened them: token or link
    log.warning("user revoked", user=name, sessions_ended=ended)


def reissue_user(engine: Engine, name: str) -> str:
    """Give a user, revoked or not, a new token (same role) and return it, shown once: the
    old token stops working and every session it opened ends."""
    token = _new_token()
    with Session(engine) as session:
        user = session.get(UserRow, name)
        if user is None:
            raise NotFoundError(f"no user '{name}'; `kringloop users add` creates one")
        old = credential_id(user)
        was_revoked = user.revoked_at is not None
        user.token_sha256 = token_hash(token)
        user.revoked_at = None
        session.add(user)
        session.commit()
    ended = sessions.end_credential_sessions(engine, old)
    log.warning("token reissued", user=name, was_revoked=was_revoked, sessions_ended=ended)
    return token


def user_by_token(engine: Engine, token: str) -> UserRow | None:
    """The active user holding this token, or None."""
    wanted = token_hash(token)
    with Session(engine) as session:
        user = session.exec(select(UserRow).where(UserRow.token_sha256 == wanted)).first()
    if user is None or user.revoked_at is not None:
        return None
    if not hmac.compare_digest(user.token_sha256, wanted):
        return None
    return user


def active_user(engine: Engine, name: str) -> UserRow | None:
    with Session(engine) as session:
        user = session.get(UserRow, name)
    return user if user is not None and user.revoked_at is None else None
