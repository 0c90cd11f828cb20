"""A data subject's rights over the record: erasure (AVG article 17) and access (article 15).

Erasure (:func:`forget`): the manager's decision to forget the subject is recorded first
(``forget-subject``: who, why, on which request), so that from that moment every door shows
the subject's personal data as erased; then the subject's key is destroyed (what was sealed
with it can never be read again, the stored bytes and so the hash chain unchanged); then the
personal data kept beside the record goes: their notification addresses (subscription, the
addresses on messages already sent), their login links to an identity provider, their web
sessions and preferences. SQLite files are vacuumed, so that nothing deleted survives in free
pages. Run again with the same command id, it finishes what a crash interrupted.

The subject's account must be revoked first (``kringloop users revoke``): an identity still
in use is not erased from under its user.

Access (:func:`report`): every place the subject's data is, from the register, the read
models and the tables beside them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from adapters.bootstrap import Kringloop
from adapters.failures import is_locked
from adapters.keyring import StoredKeyring
from adapters.store import vacuum_sqlite
from domain.commands.authority import ForgetSubject
from domain.errors import KringloopError, NotFoundError, RuleError
from domain.messages import N_
from projections.programme import person_names


@dataclass
class Forgotten:
    """What erasing one subject did."""

    subject: str
    command_id: str
    replayed: bool  # the decision was already recorded (a second run, after a crash)
    key_destroyed: bool
    removed: dict[str, int] = field(default_factory=dict)  # what was removed, how many


class ErasureUnfinished(KringloopError):
    """The erasure is recorded and the key destroyed, but what is kept beside the record
    could not all be removed: running `privacy forget` again finishes it."""

    code = "unfinished"


def forget(kringloop: Kringloop, command: ForgetSubject) -> Forgotten:
    """Record the decision, destroy the key, remove the data kept beside the record. For a
    subject whose erasure is recorded already (by an interrupted run, or through another
    door), finish it: the key and what is kept beside the record."""
    from adapters.accounts.users import active_user, create_table

    subject = command.subject
    reads = kringloop.read_store.engine
    create_table(reads)
    if active_user(reads, subject) is not None:
        raise RuleError(
            N_(
                "'{subject}' still has an active account: revoke it first "
                "(kringloop users revoke {subject})"
            ),
            subject=subject,
        )
    keyring = kringloop.engine.keyring
    had_key = _holds_key(keyring, subject)
    register = kringloop.engine.register()
    recorded = register.forgotten.get(subject) if register is not None else None
    if recorded is not None and recorded["command_id"] != command.command_id:
        command_id, replayed = str(recorded["command_id"]), True  # finish that erasure
    else:
        outcome = kringloop.execute(command)  # the engine destroys the key once it is recorded
        command_id, replayed = outcome.command_id, outcome.replayed
    try:
        if _holds_key(keyring, subject):  # a run that stopped between decision and key
            keyring.forget(subject)
        removed = _patiently(lambda: remove_beside_record(kringloop, subject))
        compact(kringloop)
    except Exception as error:
        raise ErasureUnfinished(
            N_(
                "the erasure of '{subject}' is recorded (decision {command_id}) but not "
                "finished: {problem}. Run `kringloop privacy forget {subject}` again to finish it"
            ),
            subject=subject,
            command_id=command_id,
            problem=str(error),
        ) from error
    return Forgotten(subject, command_id, replayed, had_key, removed)


def _patiently(work: Callable[[], dict[str, int]], patience_s: float = 60.0) -> dict[str, int]:
    """Run idempotent work on the read store again while another process holds it: the API's
    follower projects the erasure decision at this very moment, and an SQLite transaction
    that read before that write cannot write after it (it is refused at once, not waited)."""
    deadline = time.monotonic() + patience_s
    while True:
        try:
            return work()
        except Exception as error:
            if not is_locked(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _holds_key(keyring: Any, subject: str) -> bool:
    return isinstance(keyring, StoredKeyring) and any(
        row.wrapped is not None for row in keyring.rows([subject])
    )


def remove_beside_record(kringloop: Kringloop, subject: str) -> dict[str, int]:
    """The subject's personal data outside the events: addresses, links, sessions."""
    from sqlmodel import Session, col, select, update

    from adapters.accounts import oidc_links, preferences, sessions
    from adapters.notifications import store as notifications

    reads = kringloop.read_store.engine
    notifications.create_tables(reads)
    oidc_links.create_table(reads)
    removed = {N_("subscription"): int(notifications.unsubscribe(reads, subject))}
    with Session(reads) as db:
        result = db.exec(
            update(notifications.MessageRow)
            .where(col(notifications.MessageRow.recipient) == subject)
            .where(col(notifications.MessageRow.address) != "")
            .values(address="")
        )
        removed[N_("message addresses")] = int(result.rowcount)
        links = list(
            db.exec(
                select(oidc_links.OidcLinkRow).where(oidc_links.OidcLinkRow.user_name == subject)
            )
        )
        for link in links:
            db.delete(link)
        removed[N_("identity provider links")] = len(links)
        preference = db.get(preferences.PreferenceRow, subject)
        if preference is not None:
            db.delete(preference)
        removed[N_("preferences")] = int(preference is not None)
        db.commit()
    removed[N_("web sessions")] = sessions.end_user_sessions(reads, subject)
    return removed


def compact(kringloop: Kringloop) -> None:
    """Leave nothing deleted in the read store's free space (SQLite; the key file is
    vacuumed by the keyring as it destroys a key)."""
    settings = kringloop.settings
    if settings.database_url:
        return  # the read schema's rows: dead tuples are not dumped, and autovacuum clears them
    path = settings.home / "read.sqlite"
    if path.exists():
        kringloop.read_store.engine.dispose()
        vacuum_sqlite(path)


# -- access (article 15) -----------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """One place the subject's data is: where, what, how many, and a detail."""

    where: str  # a message id: "authority register", "decision log", ...
    what: str
    count: int
    detail: str = ""
    first: date | None = None
    last: date | None = None
    term: str = ""  # the glossary kind of the detail, if it is a slug ("role")


@dataclass
class AccessReport:
    subject: str
    name: str | None  # the name recorded, revealed; None if none or erased
    erased: bool
    forgotten: dict[str, Any] | None
    places: list[Place]


def report(kringloop: Kringloop, subject: str) -> AccessReport:
    """Where the subject's data is: the register (name, roles, erasure), the decisions they
    took or recorded or that are about them, their mandates, the initiatives they broker, and
    beside the record their account, links, sessions, subscription and messages."""
    engine = kringloop.engine
    register = engine.register()
    places: list[Place] = []
    name: str | None = None
    erased = False
    forgotten = register.forgotten.get(subject) if register else None
    if register is not None:
        if subject in register.people:
            name, erased = person_names(register, engine.keyring.reveal, [subject])[subject]
            places.append(
                Place(
                    N_("authority register"),
                    N_("name (personal data, sealed with their own key)"),
                    1,
                    "[erased]" if erased else name or "",
                )
            )
        for role, periods in sorted(register.roles.get(subject, {}).items()):
            places.append(
                Place(
                    N_("authority register"),
                    N_("role"),
                    len(periods),
                    role,
                    min(p[0] for p in periods),
                    max((p[1] for p in periods if p[1] is not None), default=None),
                    term="role",
                )
            )
        if forgotten:
            places.append(
                Place(
                    N_("authority register"),
                    N_("erasure decision, on request"),
                    1,
                    str(forgotten["request"]),
                    forgotten["on"],
                )
            )
    kringloop.fresh_reads()  # the decision log as it stands, the latest decisions included
    places += _read_model_places(kringloop, subject)
    places += _beside_record(kringloop, subject)
    if not places:
        raise NotFoundError(
            N_("nothing is recorded about '{subject}' (identities are case-sensitive)"),
            subject=subject,
        )
    return AccessReport(subject, name, erased, forgotten, places)


def _read_model_places(kringloop: Kringloop, subject: str) -> list[Place]:
    from sqlalchemy import func
    from sqlmodel import Session, col, select

    from projections.tables import DecisionRow, InitiativeRow, MandateRow

    reads = kringloop.read_store.engine
    places = []
    with Session(reads) as db:
        for label, condition in (
            (N_("decided by them"), col(DecisionRow.actor) == subject),
            (
                N_("recorded by them for someone else"),
                (col(DecisionRow.recorded_by) == subject) & (col(DecisionRow.actor) != subject),
            ),
            (
                N_("about them (their roles, their name)"),
                (col(DecisionRow.subject_kind) == "authority")
                & (col(DecisionRow.subject_id) == subject),
            ),
        ):
            query = (
                select(
                    DecisionRow.subject_kind,
                    func.count(),
                    func.min(DecisionRow.effective),
                    func.max(DecisionRow.effective),
                )
                .where(condition)
                .group_by(col(DecisionRow.subject_kind))
                .order_by(col(DecisionRow.subject_kind))
            )
            for kind, count, first, last in db.exec(query):
                places.append(
                    Place(N_("decision log"), label, count, kind, first, last, term="record")
                )
        mandates = list(db.exec(select(MandateRow).where(MandateRow.broker == subject)))
        if mandates:
            places.append(
                Place(
                    N_("mandates"),
                    N_("streams they hold or held a mandate for"),
                    len(mandates),
                    ", ".join(sorted({m.stream for m in mandates})),
                    min(m.granted_from for m in mandates),
                )
            )
        brokered = list(
            db.exec(select(InitiativeRow.initiative_id).where(InitiativeRow.broker == subject))
        )
        if brokered:
            places.append(
                Place(
                    N_("initiatives"),
                    N_("initiatives they broker"),
                    len(brokered),
                    _listed(brokered),
                )
            )
    return places


def _beside_record(kringloop: Kringloop, subject: str) -> list[Place]:
    from sqlmodel import Session, col, select

    from adapters.accounts import oidc_links, preferences, sessions, users
    from adapters.notifications import store as notifications

    reads = kringloop.read_store.engine
    users.create_table(reads)
    oidc_links.create_table(reads)
    notifications.create_tables(reads)
    places = []
    with Session(reads) as db:
        user = db.get(users.UserRow, subject)
        if user is not None:
            places.append(
                Place(
                    N_("accounts"),
                    N_("account, revoked (a token hash, never the token)")
                    if user.revoked_at
                    else N_("account, active (a token hash, never the token)"),
                    1,
                    user.role,
                    user.created_at.date(),
                    term="role",
                )
            )
        links = list(
            db.exec(
                select(oidc_links.OidcLinkRow).where(oidc_links.OidcLinkRow.user_name == subject)
            )
        )
        if links:
            places.append(
                Place(
                    N_("accounts"),
                    N_("links to an identity provider"),
                    len(links),
                    _listed(link.issuer for link in links),
                )
            )
        live = list(
            db.exec(select(sessions.SessionRow).where(sessions.SessionRow.user_name == subject))
        )
        if live:
            places.append(Place(N_("accounts"), N_("web sessions"), len(live)))
        if db.get(preferences.PreferenceRow, subject) is not None:
            places.append(Place(N_("accounts"), N_("preferences (language)"), 1))
        wanted = db.get(notifications.SubscriptionRow, subject)
        if wanted is not None:
            where = [w for w in (wanted.email, wanted.webhook_url) if w]
            places.append(
                Place(N_("notifications"), N_("subscription (addresses)"), 1, _listed(where))
            )
        sent = list(
            db.exec(
                select(notifications.MessageRow.status, notifications.MessageRow.address).where(
                    col(notifications.MessageRow.recipient) == subject
                )
            )
        )
        if sent:
            addresses = sorted({a for _, a in sent if a})
            places.append(
                Place(
                    N_("notifications"),
                    N_("messages sent to them"),
                    len(sent),
                    _listed(addresses) if addresses else "",
                )
            )
    return places


def _listed(values: Iterable[Any]) -> str:
    found = [str(v) for v in values]
    return ", ".join(found[:10]) + (f" (+{len(found) - 10})" if len(found) > 10 else "")
