"""Delivering the outbox: each notice the event store queued with its decision becomes a
message per person and channel (who: the initiative's broker, the consortium members'
contacts, the programme office; how: their subscription), and each message is sent, retried
with back-off when the mail server or the webhook's receiver fails, and given up (shown as
failed) after KRINGLOOP_DELIVERY_ATTEMPTS tries. One failing receiver holds up nothing else.

Exactly once as far as a receiver can tell: a message is marked sent only after the server
or receiver accepted it; a crash in between sends it again on the next run, with the same
id (Message-ID, webhook-id), which the receiver recognises."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from adapters.logs import get_logger
from adapters.notifications.store import (
    AttemptRow,
    MessageRow,
    NoticePosition,
    SubscriptionRow,
    create_tables,
    message_id,
    now,
)
from domain.authority import Authority
from domain.notices import Notice, Outbox, Queued
from projections.tables import InitiativeRow, PreconditionRow, ProgrammeRow

log = get_logger("kringloop.notifications")
PAGE = 500
POSITION = "outbox"
LAST_RETRY = timedelta(hours=1)
STALLED_DAYS = 90  # as the deadlines flow's default: a stall this long is overdue


@dataclass
class Delivery:
    """What one run did."""

    queued: int = 0  # messages made from new notices
    too_old: int = 0  # notices of decisions older than KRINGLOOP_NOTIFY_MAX_AGE_DAYS
    unaddressed: int = 0  # a recipient without a subscription that wants the kind
    sent: int = 0
    retrying: int = 0
    deferred: int = 0  # due, but their server or host failed earlier in this run
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items()}


def deliver(engine: Any, reads: Engine, settings: Any, today: date) -> Delivery:
    """Turn new notices into messages, then send every message that is due."""
    done = Delivery()
    create_tables(reads)
    expand(engine, reads, settings, today, done)
    send_due(reads, settings, done)
    return done


# -- notices into messages ------------------------------------------------------------------


def expand(engine: Any, reads: Engine, settings: Any, today: date, done: Delivery) -> None:
    """Each notice queued since the last run becomes its messages, position and messages
    in one transaction (a notice is expanded once)."""
    recorder = engine.recorder
    if not isinstance(recorder, Outbox):
        return
    register: Authority | None = engine.register()
    oldest = today - timedelta(days=settings.notify_max_age_days)
    while True:
        with Session(reads) as db:
            position = db.get(NoticePosition, POSITION) or NoticePosition(name=POSITION)
            notices = recorder.notices_after(position.sequence, PAGE)
            if not notices:
                return
            wanted = {s.identity: s for s in db.exec(select(SubscriptionRow))}
            made = 0
            for notice in notices:
                if _effective(notice) < oldest:
                    done.too_old += 1
                    continue
                found = recipients(db, notice, register, today)
                if notice.kind == "weekly-digest":  # and whoever holds a role and asked for it
                    found = sorted(
                        {
                            *found,
                            *(
                                i
                                for i, s in wanted.items()
                                if s.digest and _holds(register, i, today)
                            ),
                        }
                    )
                for recipient in found:
                    sub = wanted.get(recipient)
                    if sub is None or not sub.wants(notice.kind) or not sub.addresses():
                        done.unaddressed += 1
                        continue
                    for channel, address in sub.addresses():
                        made += _queue_message(db, notice, recipient, channel, address, sub)
            position.sequence = notices[-1].sequence
            db.add(position)
            db.commit()
            done.queued += made


def _effective(notice: Queued) -> date:
    found = notice.data.get("effective")
    return date.fromisoformat(found) if found else date.fromisoformat(notice.queued_at[:10])


def _queue_message(
    db: Session, notice: Queued, recipient: str, channel: str, address: str, sub: SubscriptionRow
) -> int:
    key = message_id(notice.key, recipient, channel)
    if db.get(MessageRow, key) is not None:
        return 0
    at = now()
    db.add(
        MessageRow(
            id=key,
            notice_key=notice.key,
            kind=notice.kind,
            record=notice.record,
            recipient=recipient,
            channel=channel,
            address=address,
            language=sub.language,
            data=notice.data_json(),
            next_attempt_at=at,
            created_at=at,
        )
    )
    return 1


def recipients(db: Session, notice: Notice, register: Authority | None, today: date) -> list[str]:
    """Who a notice is for: the initiative's broker; the consortium members' contacts (who
    speaks for each member organisation in the authority register); the programme office
    (its managers) for the weekly digest. Never a person whose data was erased."""
    forgotten = register.forgotten if register is not None else {}
    return [who for who in _recipients(db, notice, register, today) if who not in forgotten]


def _recipients(db: Session, notice: Notice, register: Authority | None, today: date) -> list[str]:
    if notice.kind == "weekly-digest":
        return _holding(register, "manager", today)
    initiative = _initiative(db, notice.record)
    if initiative is None:
        return []
    ready = notice.kind == "scale-up-assessed" and notice.data.get("outcome") == "ready"
    if ready and initiative.stage == "scaled_up":  # scaled up already: no news for anyone
        return []
    if notice.kind in ("consortium-formed", "board-withdrawn"):
        members = json.loads(initiative.members or "{}")
        return sorted(
            {who for member in members for who in _holding(register, "organisation", today, member)}
        )
    return [initiative.broker]


def _holding(
    register: Authority | None, role: str, today: date, organisation: str | None = None
) -> list[str]:
    if register is None:
        return []
    return sorted(
        identity
        for identity in register.roles
        if register.grant_of(identity, role, today, organisation) is not None
    )


def _holds(register: Authority | None, identity: str, today: date) -> bool:
    return register is not None and bool(register.roles_of(identity, today))


def _initiative(db: Session, record: str) -> InitiativeRow | None:
    if not record:
        return None
    return db.exec(select(InitiativeRow).where(InitiativeRow.aggregate_id == record)).first()


# -- sending -------------------------------------------------------------------------------


def send_due(reads: Engine, settings: Any, done: Delivery) -> None:
    """Send every pending message whose time has come; each is marked in its own
    transaction after the server or receiver accepted it. Once a mail server or a webhook's
    host fails for a reason that may pass, its other messages wait for the next run (no
    attempt counted): a server that hangs costs one timeout a run, not one a message."""
    failing: set[str] = set()
    for message in _due(reads):
        address = _address_now(reads, message)
        if address is None:
            _failed(
                reads,
                message,
                f"no {message.channel} address subscribed any more",
                settings,
                done,
                True,
            )
            continue
        message.address = address  # a corrected address counts, a retry goes there
        endpoint = _endpoint(message)
        if endpoint in failing:
            done.deferred += 1
            continue
        try:
            _send(message, reads, settings)
        except Exception as error:  # DeliveryFailed, or anything a template or server throws
            final = bool(getattr(error, "permanent", False))  # refused for good: no retry
            _failed(reads, message, _said(error, message), settings, done, final)
            if not final:
                failing.add(endpoint)
            continue
        _sent(reads, message)
        done.sent += 1


def _said(error: Exception, message: MessageRow) -> str:
    """What went wrong, in short: a delivery failure's own words (without the message id
    they repeat), anything else with its type."""
    from adapters.notifications.mail import DeliveryFailed

    if isinstance(error, DeliveryFailed):
        return str(error).replace(f"webhook {message.id}: ", "")
    return f"{type(error).__name__}: {error}"


def _address_now(reads: Engine, message: MessageRow) -> str | None:
    """Where the recipient wants this channel now (their subscription may have changed
    since the message was made); None if they no longer want it there."""
    with Session(reads) as db:
        sub = db.get(SubscriptionRow, message.recipient)
    return dict(sub.addresses()).get(message.channel) if sub is not None else None


def _endpoint(message: MessageRow) -> str:
    if message.channel == "email":
        return "smtp"
    return f"webhook:{urlsplit(message.address).netloc}"


def _due(reads: Engine) -> Iterator[MessageRow]:
    with Session(reads) as db:
        due = list(
            db.exec(
                select(MessageRow)
                .where(MessageRow.status == "pending", col(MessageRow.next_attempt_at) <= now())
                .order_by(col(MessageRow.next_attempt_at), col(MessageRow.id))
            )
        )
    yield from due


def _send(message: MessageRow, reads: Engine, settings: Any) -> None:
    context = message_context(reads, message, settings)
    if message.channel == "email":
        from adapters.notifications.mail import message_id_for, render, send

        mail = render(
            message.kind, message.language, context, message.address, message_id_for(message.id)
        )
        send(mail, settings)
    else:
        from adapters.notifications.webhooks import post

        post(
            message.address, webhook_secret(settings), message.id, webhook_payload(message, context)
        )


def webhook_secret(settings: Any) -> str:
    """The secret webhooks are signed with: from a file (it wins) or the setting."""
    path = getattr(settings, "webhook_secret_file", None)
    if path is not None:
        return str(path.read_text()).strip()
    secret = getattr(settings, "webhook_secret", None)
    if secret is None:
        raise ValueError("no webhook secret: set KRINGLOOP_WEBHOOK_SECRET or ..._SECRET_FILE")
    return str(secret.get_secret_value())


def webhook_payload(message: MessageRow, context: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": message.kind,
        "notice": message.notice_key,
        "recipient": message.recipient,
        "initiative": context.get("initiative_id"),
        "title": context.get("title"),
        "link": context.get("link"),
        "data": json.loads(message.data),
    }


def message_context(reads: Engine, message: MessageRow, settings: Any) -> dict[str, Any]:
    """What a message says, read when it is sent: the notice's data, the initiative's title
    and page, the programme's title."""
    data = json.loads(message.data)
    base = str(getattr(settings, "public_url", "")).rstrip("/")
    with Session(reads) as db:
        initiative = _initiative(db, message.record)
        programme_id = initiative.programme_id if initiative is not None else data.get("programme")
        programme = db.get(ProgrammeRow, programme_id) if programme_id else None
    context: dict[str, Any] = {
        "recipient": message.recipient,
        "language": message.language,
        "programme": programme.name if programme is not None else (programme_id or ""),
    }
    if message.kind == "weekly-digest":
        return {
            **context,
            "week": data["week"],
            "moved": data.get("moved", []),
            "overdue": data.get("overdue", []),
            "at_risk": data.get("at_risk", []),
            "link": f"{base}/programmes/{programme_id}" if programme_id else f"{base}/",
        }
    if initiative is None:  # retried: the read models may not have caught up yet
        raise LookupError(f"initiative {message.record} is not in the read models yet")
    context |= {
        "initiative_id": initiative.initiative_id,
        "title": initiative.title,
        "link": f"{base}/initiatives/{initiative.initiative_id}",
    }
    if message.kind == "overdue-precondition":
        with Session(reads) as db:
            found = db.get(PreconditionRow, (initiative.initiative_id, data.get("subject", "")))
        return {
            **context,
            "precondition": (found.description or found.precondition) if found else data["subject"],
            "due": found.due if found else None,
        }
    if message.kind == "stalled":
        return {**context, "since": initiative.status_since}
    if message.kind == "scale-up-assessed":
        return {**context, "outcome": data["outcome"], "risks": _risks(data)}
    if message.kind == "consortium-formed":
        members = json.loads(initiative.members or "{}")
        return {**context, "members": members, "formed_on": initiative.consortium_formed_on}
    return {**context, "handover_note": data.get("handover_note", "")}


def _risks(data: dict[str, Any]) -> list[str]:
    return [r.strip() for r in str(data.get("criteria", "")).split(";") if r.strip()]


def _sent(reads: Engine, message: MessageRow) -> None:
    with Session(reads) as db:
        row = db.get(MessageRow, message.id) or message
        row.attempts += 1
        row.address = message.address
        row.status, row.sent_at, row.last_error = "sent", now(), ""
        db.add(row)
        db.add(AttemptRow(message_id=row.id, attempt=_next(db, row.id), at=now(), outcome="sent"))
        db.commit()
    log.info("notification sent", message=message.id, kind=message.kind, channel=message.channel)


def _failed(
    reads: Engine,
    message: MessageRow,
    error: str,
    settings: Any,
    done: Delivery,
    final: bool = False,
) -> None:
    with Session(reads) as db:
        row = db.get(MessageRow, message.id) or message
        row.attempts += 1
        row.address = message.address
        row.last_error = error[:500]
        if final or row.attempts >= settings.delivery_attempts:
            row.status = "failed"
            done.failed += 1
        else:
            first = timedelta(seconds=settings.delivery_backoff)
            wait = min(first * 2 ** (row.attempts - 1), LAST_RETRY)
            row.next_attempt_at = now() + wait
            done.retrying += 1
        db.add(row)
        db.add(
            AttemptRow(
                message_id=row.id,
                attempt=_next(db, row.id),
                at=now(),
                outcome="failed",
                detail=error[:500],
            )
        )
        db.commit()
    done.errors.append(f"{message.id}: {error}")
    log.warning(
        "notification not delivered",
        message=message.id,
        kind=message.kind,
        channel=message.channel,
        attempt=message.attempts + 1,
        error=_without_address(error, message)[:200],
    )


def _without_address(error: str, message: MessageRow) -> str:
    """The error for the log, a webhook's address cut to its host: a path or query may hold
    a receiver's token (the page shows managers the whole address; the log does not)."""
    if message.channel != "webhook":
        return error
    parts = urlsplit(message.address)
    said = error.replace(message.address, f"{parts.scheme}://{parts.netloc}/...")
    for secretive in (parts.query, parts.path):  # as the HTTP library quotes them too
        if len(secretive) > 1:
            said = said.replace(secretive, "...")
    return said


def _next(db: Session, message: str) -> int:
    """The number of the next attempt in the message's log (a retry by hand starts a new
    round of attempts, the log goes on)."""
    numbers = db.exec(select(AttemptRow.attempt).where(AttemptRow.message_id == message)).all()
    return max(numbers, default=0) + 1


def sent_about(reads: Engine, record: str, kind: str) -> list[str]:
    """Who was sent a notice of this kind about this record (an aggregate id, hex)."""
    with Session(reads) as db:
        found = db.exec(
            select(MessageRow.recipient).where(
                MessageRow.record == record, MessageRow.kind == kind, MessageRow.status == "sent"
            )
        ).all()
    return sorted(set(found))


# -- the weekly digest ------------------------------------------------------------------------


def weekly_digest(engine: Any, reads: Any, today: date, programme_id: str) -> Notice | None:
    """Queue the programme office's digest of the week before ``today`` (once per ISO
    week, whoever asks and however often: the outbox keeps one notice per key), from the
    read store ``reads`` (a projections.store.ReadStore): what moved to another stage,
    what is overdue (a precondition past its date, a stall past 90 days: what the
    deadlines check escalates), what is at risk."""
    from projections.queries import deadline_concerns

    recorder = engine.recorder
    if not isinstance(recorder, Outbox):
        return None
    year, week, _ = today.isocalendar()
    label = f"{year}-W{week:02d}"
    since = today - timedelta(days=7)
    with Session(reads.engine) as db:
        rows = {
            r.initiative_id: r
            for r in db.exec(
                select(InitiativeRow).where(InitiativeRow.programme_id == programme_id)
            )
        }
        described = {
            (p.initiative_id, p.precondition): p.description or p.precondition
            for p in db.exec(
                select(PreconditionRow).where(PreconditionRow.programme_id == programme_id)
            )
        }
    overdue = [
        {
            "initiative_id": initiative,
            "title": rows[initiative].title,
            "what": described.get((initiative, subject), subject),
        }
        for initiative, _, subject in deadline_concerns(reads, today, STALLED_DAYS)
        if initiative in rows
    ]
    data = {
        "week": label,
        "programme": programme_id,
        "effective": today.isoformat(),
        "moved": [
            {"initiative_id": r.initiative_id, "title": r.title, "stage": r.stage}
            for r in rows.values()
            if r.stage_since >= since
        ],
        "overdue": overdue,
        "at_risk": [
            {"initiative_id": r.initiative_id, "title": r.title} for r in rows.values() if r.at_risk
        ],
    }
    notice = Notice(f"weekly-digest:{programme_id}:{label}", "weekly-digest", "", 0, data)
    recorder.queue_notices([notice])
    return notice
