"""Web sessions: records on the server, each bound to the credential that opened it.

What other code calls (the login form, and the OpenID Connect callback, once it has
checked the ID token and found the user it links to)::

    session_id = open_session(engine, user_name, credential_id)  # goes in the cookie only
    row = session_for(engine, session_id, now, lifetimes)  # None: ended, expired or void
    end_session(engine, session_id)  # logout
    end_credential_sessions(engine, credential_id)  # a credential revoked or replaced

``credential_id`` names the credential the user proved, as ``KIND:ID``, and is never a
secret: a bearer token is ``token:…``, derived from its hash (``users.credential_id``); an
OpenID Connect login would be ``oidc:<its subject link's id>``. Every kind registers, with
``register_credential_kind``, how to tell that a credential is still the user's and in
force; a session whose kind is unknown, or whose credential no longer holds, is ended at
its next request. Whoever revokes, replaces or unlinks a credential also calls
``end_credential_sessions``, so its sessions end at once, not only at their next request.

The session id is 256 random bits. The cookie carries it and nothing else; the table keeps
only its SHA-256 (the id is not guessable, so a fast hash is enough), and the CSRF token is
derived from the id (``csrf_for``), so it belongs to the session and is stored nowhere.
A session ends when its idle time or its absolute lifetime runs out, whatever happens.

The table lives in the read store's database beside ``kringloop_user`` and, like it, is no
read model: created on its own, kept by `projections rebuild`. It is not in a backup: a
restore ends every session (``end_all_sessions``), and everyone logs in again. All state is
in the database, so several API workers share their sessions.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, update
from sqlmodel import Field, Session, SQLModel, col, delete, select

TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often per session


class SessionRow(SQLModel, table=True):
    __tablename__ = "kringloop_session"

    id_sha256: str = Field(primary_key=True)
    user_name: str = Field(index=True)
    credential_id: str = Field(index=True)
    opened_at: datetime  # UTC
    last_seen_at: datetime


@dataclass(frozen=True)
class Lifetimes:
    """How long a session lives: ``idle`` without a request, ``absolute`` at most."""

    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=8)


CredentialCheck = Callable[[Engine, str, str], bool]
"""(engine, user_name, credential_id): is this credential still the user's, and in force?"""

_KINDS: dict[str, CredentialCheck] = {}


def register_credential_kind(kind: str, still_valid: CredentialCheck) -> None:
    """Say how sessions opened with credentials ``KIND:…`` are checked at each request."""
    _KINDS[kind] = still_valid


def create_table(engine: Engine) -> None:
    SQLModel.metadata.create_all(engine, tables=[SessionRow.__table__])  # type: ignore[attr-defined]


def utc_now() -> datetime:
    return datetime.now(tz=UTC)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def csrf_for(session_id: str) -> str:
    """The session's CSRF token: derived from its id (not from the stored hash)."""
    return hashlib.sha256(f"kringloop-csrf:{session_id}".encode()).hexdigest()


def open_session(
    engine: Engine,
    user_name: str,
    credential_id: str,
    now: datetime | None = None,
    lifetimes: Lifetimes = Lifetimes(),
) -> str:
    """Open a session for a user who just proved ``credential_id``; return its id, for the
    cookie only. Sessions past their absolute lifetime are cleared out on the way."""
    if ":" not in credential_id:
        raise ValueError(f"credential id {credential_id!r}: expected KIND:ID")
    moment = _utc(now or utc_now())
    session_id = secrets.token_urlsafe(32)
    with Session(engine) as db:
        db.exec(delete(SessionRow).where(col(SessionRow.opened_at) < moment - lifetimes.absolute))
        db.add(
            SessionRow(
                id_sha256=_hash(session_id),
                user_name=user_name,
                credential_id=credential_id,
                opened_at=moment,
                last_seen_at=moment,
            )
        )
        db.commit()
    return session_id


def session_for(
    engine: Engine,
    session_id: str,
    now: datetime | None = None,
    lifetimes: Lifetimes = Lifetimes(),
) -> SessionRow | None:
    """The live session with this id, its last request now; None (and the session ended)
    if it is idle too long, too old, or its credential no longer holds."""
    moment = _utc(now or utc_now())
    key = _hash(session_id)
    # one connection at a time: the credential check opens its own, and a request that held
    # one while waiting for another starved the pool under load (50 concurrent page
    # requests, 15 connections: every thread holding one, waiting 30 s for a second)
    with Session(engine) as db:
        row = db.get(SessionRow, key)
        if row is None:
            return None
        db.expunge(row)
    kind = row.credential_id.split(":", 1)[0]
    check = _KINDS.get(kind)
    if (
        moment - row.last_seen_at > lifetimes.idle
        or moment - row.opened_at >= lifetimes.absolute
        or moment < row.opened_at  # a clock gone back opens nothing
        or check is None
        or not check(engine, row.user_name, row.credential_id)
    ):
        _end(engine, col(SessionRow.id_sha256) == key)
        return None
    if moment - row.last_seen_at >= TOUCH_EVERY:
        with Session(engine) as db:
            db.exec(
                update(SessionRow)
                .where(col(SessionRow.id_sha256) == key)
                .values(last_seen_at=moment)
            )
            db.commit()
        row.last_seen_at = moment
    return row


def end_session(engine: Engine, session_id: str) -> bool:
    """End one session (logout): its cookie, and every copy of it, opens nothing after."""
    with Session(engine) as db:
        row = db.get(SessionRow, _hash(session_id))
        if row is None:
            return False
        db.delete(row)
        db.commit()
        return True


def end_credential_sessions(engine: Engine, credential_id: str) -> int:
    """End every session this credential opened; return how many."""
    return _end(engine, col(SessionRow.credential_id) == credential_id)


def end_user_sessions(engine: Engine, user_name: str) -> int:
    """End every session of this user, whatever opened it; return how many."""
    return _end(engine, col(SessionRow.user_name) == user_name)


def end_all_sessions(engine: Engine) -> int:
    create_table(engine)
    return _end(engine, None)


def _end(engine: Engine, where: object) -> int:
    with Session(engine) as db:
        query = select(SessionRow) if where is None else select(SessionRow).where(where)  # type: ignore[arg-type]
        rows = list(db.exec(query).all())
        for row in rows:
            db.delete(row)
        db.commit()
    return len(rows)
