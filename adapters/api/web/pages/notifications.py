"""Notifications: each user sets what they want to hear and where (e-mail, webhook); the
programme office (managers) sees what was sent, puts a failed message back in the queue, and
sets someone else's notifications (a contact who never logs in).

The page reads the notification tables (adapters.notifications.store), which change
without a new event (a delivery, a retry): it does not answer conditionally."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine
from sqlmodel import Session

from adapters.accounts.users import Role
from adapters.api.auth import Principal
from adapters.api.web.pages.common import (
    backend,
    forbidden,
    page_language,
    page_translator,
    render,
    role_forbidden,
)
from adapters.api.web.pages.deciding import FORM_EXPIRED
from adapters.api.web.session import WebUser, csrf_ok
from adapters.i18n import LANGUAGE_NAMES, LANGUAGES
from adapters.notifications import store
from domain.messages import N_
from domain.notices import KINDS

router = APIRouter(include_in_schema=False)

KIND_WORDS = {
    "overdue-precondition": N_("Overdue precondition"),
    "stalled": N_("Initiative stalled"),
    "scale-up-assessed": N_("Scale-up assessed"),
    "consortium-formed": N_("Consortium formed"),
    "board-withdrawn": N_("Board withdrawn"),
    "weekly-digest": N_("Weekly digest"),
}
"""Each kind of notice (domain.notices.KINDS) in words."""

STATUS_WORDS = {"pending": N_("waiting"), "sent": N_("sent"), "failed": N_("failed")}
"""A message's delivery status (adapters.notifications.store.STATUSES) in words."""

CHANNEL_WORDS = {"email": N_("e-mail"), "webhook": N_("webhook")}

BAD_EMAIL = N_("Enter an e-mail address such as name@example.nl, or leave the field empty.")
BAD_URL = N_("Enter a web address that starts with https:// or http://, or leave the field empty.")
MAY_NOT_SEE_SENT = N_("Your role ({role}) may not see or retry the notifications sent.")
MAY_NOT_SET_FOR = N_("Your role ({role}) may not set someone else's notifications.")
NO_SUCH_MESSAGE = N_("There is no message {message} here.")
NOT_IN_REGISTER = N_(
    "%(identity)s is not in the authority register: only its identities are notified."
)
NEWEST = 100  # messages in the table
MAX_IDENTITY = 200


@dataclass
class Choices:
    """What the subscription form shows: the stored subscription, or what was typed."""

    email: str = ""
    webhook_url: str = ""
    kinds: list[str] = field(default_factory=lambda: list(KINDS))
    digest: bool = False
    language: str = "nl"
    identity: str = ""  # whom a manager sets them for; empty: the user's own
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, row: store.SubscriptionRow | None, language: str) -> Choices:
        if row is None:
            return cls(language=language if language in LANGUAGES else "nl")
        kinds = list(KINDS) if row.kinds == "*" else [k for k in row.kinds.split(",") if k]
        return cls(row.email or "", row.webhook_url or "", kinds, row.digest, row.language)

    def stored_kinds(self) -> str:
        return "*" if set(KINDS) <= set(self.kinds) else ",".join(self.kinds)


def read_engine(request: Request) -> Engine:
    """The read store's database, where the notification tables sit beside the users'
    (created here when missing: the page may be opened before any delivery ran)."""
    engine: Engine = backend(request).read_store.engine
    store.create_tables(engine)
    return engine


def is_manager(who: Principal) -> bool:
    return who.role is Role.MANAGER


def typed(email: str, webhook_url: str, kinds: list[str], delivery: str, language: str) -> Choices:
    """The submitted form as choices, each field checked; a value not offered (a tampered
    form) falls back to what the form offers first."""
    choices = Choices(
        email=email.strip(),
        webhook_url=webhook_url.strip(),
        kinds=[k for k in KINDS if k in kinds],
        digest=delivery == "digest",
        language=language if language in LANGUAGES else "nl",
    )
    if choices.email and not store.email_ok(choices.email):
        choices.errors["email"] = BAD_EMAIL
    if choices.webhook_url and not store.url_ok(choices.webhook_url):
        choices.errors["webhook_url"] = BAD_URL
    return choices


def _status_filter(value: str | None) -> str | None:
    return value if value in store.STATUSES else None


def _created(row: store.MessageRow) -> datetime:
    """When the message was made, in UTC (a database without time zones hands it back
    without one), so the page shows it on the Amsterdam clock."""
    made = row.created_at
    return made if made.tzinfo else made.replace(tzinfo=UTC)


def page(
    request: Request,
    who: Principal,
    mine: Choices,
    status: int = 200,
    saved: str = "",
    retried: store.MessageRow | None = None,
    others: Choices | None = None,
    unknown: str = "",  # an identity asked for that the authority register does not know
) -> HTMLResponse:
    engine = read_engine(request)
    manager = is_manager(who)
    shown = _status_filter(request.query_params.get("status"))
    sent = store.messages(engine, shown, limit=NEWEST) if manager else []
    return render(
        request,
        "notifications.html",
        who,
        status,
        mine=mine,
        saved=saved,
        retried=retried,
        manager=manager,
        sent=[(m, _created(m)) for m in sent],
        received=[
            (m, _created(m))
            for m in ([] if manager else store.messages(engine, None, NEWEST, who.name))
        ],
        shown=shown,
        others=others if manager else None,
        unknown=unknown if manager else "",
        subscribers=store.subscriptions(engine) if manager else [],
        kinds=KINDS,
        kind_words=KIND_WORDS,
        status_words=STATUS_WORDS,
        statuses=store.STATUSES,
        channel_words=CHANNEL_WORDS,
        language_names=LANGUAGE_NAMES,
        languages_offered=LANGUAGES,
        newest=NEWEST,
    )


def _identity(value: str) -> str:
    """Whom a manager sets notifications for: the identity as typed, without the spaces
    around it; empty when it is too long to be one."""
    value = value.strip()
    return value if len(value) <= MAX_IDENTITY else ""


@router.get("/notifications")
def notifications_page(
    request: Request,
    who: WebUser,
    saved: str = "",
    retried: str = "",
    for_: Annotated[str, Query(alias="for")] = "",
) -> HTMLResponse:
    engine = read_engine(request)
    mine = Choices.of(store.subscription(engine, who.name), page_language(request, who))
    manager = is_manager(who)
    with Session(engine) as db:
        again = db.get(store.MessageRow, retried) if retried and manager else None
    others, unknown = None, ""
    if manager and (identity := _identity(for_)):
        if not _registered(request, identity):
            unknown = identity
        else:
            others = Choices.of(store.subscription(engine, identity), "nl")
            others.identity = identity
    status = 404 if unknown else 200
    return page(request, who, mine, status, saved, again, others, unknown)


def _registered(request: Request, identity: str) -> bool:
    """Whether the authority register knows ``identity`` (held a role, ever), and the
    person's data was not erased (a forgotten identity gets no address again)."""
    register = backend(request).engine.register()
    return (
        register is not None and identity in register.roles and identity not in register.forgotten
    )


def submitted(
    email: Annotated[str, Form()] = "",
    webhook_url: Annotated[str, Form()] = "",
    kinds: Annotated[list[str] | None, Form()] = None,
    delivery: Annotated[str, Form()] = "immediate",
    language: Annotated[str, Form()] = "nl",
    identity: Annotated[str, Form()] = "",
) -> Choices:
    """A subscription form as sent (a dependency: both forms have the same fields)."""
    choices = typed(email, webhook_url, kinds or [], delivery, language)
    choices.identity = _identity(identity)
    return choices


Submitted = Annotated[Choices, Depends(submitted)]


def _expired(request: Request, who: Principal) -> Response:
    return forbidden(request, who, FORM_EXPIRED)


def _in_words(request: Request, who: Principal, choices: Choices) -> Choices:
    t = page_translator(request, who)
    choices.errors = {name: t.gettext(text) for name, text in choices.errors.items()}
    return choices


def _save(request: Request, identity: str, by: str, choices: Choices) -> None:
    store.subscribe(
        read_engine(request),
        identity,
        by=by,
        email=choices.email or None,
        webhook_url=choices.webhook_url or None,
        kinds=choices.stored_kinds(),
        digest=choices.digest,
        language=choices.language,
    )


@router.post("/notifications/mine")
def save_mine(
    request: Request, who: WebUser, choices: Submitted, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    """Save the user's own subscription; a field that does not check out is shown again as
    typed, with what is wrong beside it, and nothing is saved."""
    if not csrf_ok(request, csrf_token):
        return _expired(request, who)
    if choices.errors:
        return page(request, who, _in_words(request, who, choices), status=422)
    _save(request, who.name, who.name, choices)
    return RedirectResponse("/notifications?saved=mine#mine", status_code=303)


@router.post("/notifications/for")
def save_for(
    request: Request, who: WebUser, choices: Submitted, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    """A manager sets someone else's subscription (a contact who does not log in, a
    colleague away): recorded as set by the manager."""
    if not csrf_ok(request, csrf_token):
        return _expired(request, who)
    if not is_manager(who):
        return _may_not(request, who, MAY_NOT_SET_FOR)
    if not choices.identity:
        return RedirectResponse("/notifications#for", status_code=303)
    if not _registered(request, choices.identity):
        engine = read_engine(request)
        mine = Choices.of(store.subscription(engine, who.name), page_language(request, who))
        return page(request, who, mine, 404, unknown=choices.identity)
    if choices.errors:
        engine = read_engine(request)
        mine = Choices.of(store.subscription(engine, who.name), page_language(request, who))
        return page(request, who, mine, 422, others=_in_words(request, who, choices))
    _save(request, choices.identity, who.name, choices)
    where = quote(choices.identity, safe="")
    return RedirectResponse(f"/notifications?for={where}&saved=for#for", status_code=303)


def _may_not(request: Request, who: Principal, what: str) -> Response:
    return role_forbidden(request, who, what, "manage notifications")


@router.post("/notifications/{message_id}/retry")
def retry_message(
    request: Request,
    who: WebUser,
    message_id: str,
    csrf_token: Annotated[str, Form()] = "",
    shown: Annotated[str, Form()] = "",
) -> Response:
    """Put a failed message back in the queue (managers: the programme office answers for
    what the programme sends)."""
    if not csrf_ok(request, csrf_token):
        return _expired(request, who)
    if not is_manager(who):
        return _may_not(request, who, MAY_NOT_SEE_SENT)
    if store.retry(read_engine(request), message_id) is None:
        t = page_translator(request, who)
        message = t.gettext(NO_SUCH_MESSAGE).format(message=message_id)
        return render(request, "error.html", who, 404, message=message)
    back = f"status={shown}&" if _status_filter(shown) else ""
    where = quote(message_id, safe="")
    return RedirectResponse(f"/notifications?{back}retried={where}#sent", status_code=303)
