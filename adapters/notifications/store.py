"""Who wants to hear what, and what was sent: subscriptions, messages and their delivery
attempts. Like the users' tables they sit beside the read models in the read store's
database and are no read model (a rebuild leaves them be); the notices themselves wait in
the event store's outbox (domain.notices), written with the decisions that cause them.

A message is one notice for one person over one channel; its id is made from those three,
so a notice is never turned into the same message twice, and every retry of a message
carries the same id (the mail's Message-ID, the webhook's ``webhook-id``): a receiver that
got it before a crash can tell it is the same message."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import HttpUrl, TypeAdapter, ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlmodel import Field, Session, SQLModel, col, select

CHANNELS = ("email", "webhook")

# one @, something either side, a dot in the domain, no spaces: the mail server judges the rest
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


def email_ok(value: str) -> bool:
    """Whether ``value`` looks like an e-mail address (the page and the CLI both ask)."""
    return len(value) <= 254 and _EMAIL.fullmatch(value) is not None


def url_ok(value: str) -> bool:
    """An http(s) address with a host (pydantic's HttpUrl), as typed: no spaces."""
    if len(value) > 2000 or any(c.isspace() for c in value):
        return False
    try:
        _URL.validate_python(value)
    except ValidationError:
        return False
    return not _reserved_host(urlsplit(value).hostname or "")


def _reserved_host(host: str) -> bool:
    """A literal link-local, unspecified or multicast address (the cloud's metadata service
    at 169.254.169.254): never a receiver. Names are checked when sending (webhooks)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_link_local or ip.is_unspecified or ip.is_multicast


STATUSES = ("pending", "sent", "failed")


class SubscriptionRow(SQLModel, table=True):
    """What one identity wants to hear, where, and in which language."""

    __tablename__ = "kringloop_subscription"

    identity: str = Field(primary_key=True)  # as in the authority register and the users
    email: str | None = None
    webhook_url: str | None = None
    kinds: str = "*"  # comma-separated domain.notices.KINDS, or "*" for every kind
    digest: bool = False  # only the Monday digest, no message per notice
    language: str = "nl"
    updated_at: datetime
    updated_by: str

    def wants(self, kind: str) -> bool:
        if kind == "weekly-digest":
            return self.kinds == "*" or kind in self.kinds.split(",") or self.digest
        if self.digest:
            return False
        return self.kinds == "*" or kind in self.kinds.split(",")

    def addresses(self) -> list[tuple[str, str]]:
        found = [("email", self.email)] if self.email else []
        return found + ([("webhook", self.webhook_url)] if self.webhook_url else [])


class MessageRow(SQLModel, table=True):
    """One notice for one person over one channel, and how its delivery goes."""

    __tablename__ = "kringloop_message"

    id: str = Field(primary_key=True)
    notice_key: str = Field(index=True)
    kind: str
    record: str  # the notice's aggregate id (hex), "" for the programme
    recipient: str = Field(index=True)
    channel: str
    address: str
    language: str
    data: str  # the notice's data (JSON)
    status: str = Field(default="pending", index=True)
    attempts: int = 0
    next_attempt_at: datetime
    last_error: str = ""
    created_at: datetime
    sent_at: datetime | None = None


class AttemptRow(SQLModel, table=True):
    """Every try at delivering a message: when, and what came of it."""

    __tablename__ = "kringloop_delivery_attempt"

    message_id: str = Field(primary_key=True)
    attempt: int = Field(primary_key=True)
    at: datetime
    outcome: str  # "sent" or "failed"
    detail: str = ""


class NoticePosition(SQLModel, table=True):
    """How far the outbox was turned into messages."""

    __tablename__ = "kringloop_notice_position"

    name: str = Field(primary_key=True)
    sequence: int = 0


TABLES = [SubscriptionRow, MessageRow, AttemptRow, NoticePosition]


def create_tables(engine: Engine) -> None:
    """Create the tables if missing; another process creating them at the same moment is
    no failure (the second look finds them)."""
    tables = [t.__table__ for t in TABLES]  # type: ignore[attr-defined]
    try:
        SQLModel.metadata.create_all(engine, tables=tables)
    except (IntegrityError, OperationalError, ProgrammingError):
        SQLModel.metadata.create_all(engine, tables=tables)


def message_id(notice_key: str, recipient: str, channel: str) -> str:
    return hashlib.sha256(f"{notice_key}\x1f{recipient}\x1f{channel}".encode()).hexdigest()[:32]


def now() -> datetime:
    return datetime.now(tz=UTC)


# -- subscriptions ---------------------------------------------------------------------------


def subscribe(engine: Engine, identity: str, by: str, **fields: Any) -> SubscriptionRow:
    """Set what ``identity`` wants to hear (fields not given stay as they were)."""
    with Session(engine) as db:
        row = db.get(SubscriptionRow, identity) or SubscriptionRow(
            identity=identity, updated_at=now(), updated_by=by
        )
        for name, value in fields.items():
            setattr(row, name, value)
        row.updated_at, row.updated_by = now(), by
        db.add(row)
        db.commit()
        db.refresh(row)
        return row


def unsubscribe(engine: Engine, identity: str) -> bool:
    """Forget what ``identity`` wanted to hear (their e-mail address and webhook with it);
    False if there was nothing to forget. Messages already made keep their log."""
    with Session(engine) as db:
        row = db.get(SubscriptionRow, identity)
        if row is None:
            return False
        db.delete(row)
        db.commit()
        return True


def subscription(engine: Engine, identity: str) -> SubscriptionRow | None:
    with Session(engine) as db:
        return db.get(SubscriptionRow, identity)


def subscriptions(engine: Engine) -> list[SubscriptionRow]:
    with Session(engine) as db:
        return list(db.exec(select(SubscriptionRow).order_by(col(SubscriptionRow.identity))))


# -- messages --------------------------------------------------------------------------------


def messages(
    engine: Engine, status: str | None = None, limit: int = 500, recipient: str | None = None
) -> list[MessageRow]:
    """The newest messages first (of one status, to one recipient, if given)."""
    with Session(engine) as db:
        query = select(MessageRow)
        if status is not None:
            query = query.where(MessageRow.status == status)
        if recipient is not None:
            query = query.where(MessageRow.recipient == recipient)
        query = query.order_by(col(MessageRow.created_at).desc(), col(MessageRow.id)).limit(limit)
        return list(db.exec(query))


def attempts_of(engine: Engine, message: str) -> list[AttemptRow]:
    with Session(engine) as db:
        query = select(AttemptRow).where(AttemptRow.message_id == message)
        return list(db.exec(query.order_by(col(AttemptRow.attempt))))


def retry(engine: Engine, message: str) -> MessageRow | None:
    """Put a failed (or pending) message back in the queue, due now, with a new round of
    attempts; None if unknown."""
    with Session(engine) as db:
        row = db.get(MessageRow, message)
        if row is None:
            return None
        if row.status != "sent":  # a new round of attempts; the log keeps the old ones
            row.status, row.next_attempt_at, row.attempts = "pending", now(), 0
            db.add(row)
            db.commit()
            db.refresh(row)
        return row
