"""`kringloop notifications`: who hears about what (subscriptions), what was sent, what is
waiting or failed, and sending now. The deliver-notifications flow sends every minute."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table

from adapters.cli.context import console, emit_json, parse_day, refuse, session

notifications_app = typer.Typer(
    help="Notifications: mails and webhooks for deadlines, escalations and decisions, sent "
    "from an outbox (see README 'Notifications').",
    no_args_is_help=True,
)
JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
IdentityArgument = Annotated[str, typer.Argument(help="the identity, as in the authority register")]
ActorOption = Annotated[
    str, typer.Option("--actor", help="who does it: the identity itself or a manager")
]
KINDS_HELP = (
    "comma-separated kinds: overdue-precondition, stalled, scale-up-assessed, "
    "consortium-formed, board-withdrawn, weekly-digest; '*' for all"
)


def _today(value: str | None) -> date:
    from domain.engine import today_in_programme_tz

    return parse_day(value, "--today") if value else today_in_programme_tz()


@notifications_app.command("subscribe")
def subscribe(
    ctx: typer.Context,
    identity: IdentityArgument,
    actor: ActorOption,
    email: Annotated[str | None, typer.Option(help="send mails here ('' stops them)")] = None,
    webhook: Annotated[
        str | None, typer.Option(help="post signed webhooks here ('' stops them)")
    ] = None,
    kinds: Annotated[str | None, typer.Option(help=KINDS_HELP)] = None,
    digest: Annotated[
        bool | None,
        typer.Option(
            "--digest/--immediate", help="only the Monday digest, or a message per notice"
        ),
    ] = None,
    language: Annotated[str | None, typer.Option(help="nl (default) or en")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Say what IDENTITY hears about and where: mail, webhook or both, which kinds, each at
    once or only in the Monday digest, in Dutch or English. A manager may set it for anyone;
    anyone else only for themselves."""
    from adapters.notifications import store
    from domain.notices import KINDS

    current = session(ctx)
    _may_set(current, identity, actor, as_json)
    if email and not store.email_ok(email):
        refuse(f"--email {email!r}: not an e-mail address (name@example.nl)", "invalid", as_json)
    if webhook and not store.url_ok(webhook):
        refuse(f"--webhook {webhook!r}: not an http(s) address", "invalid", as_json)
    if kinds is not None and kinds != "*":
        unknown = sorted(set(kinds.split(",")) - set(KINDS))
        if unknown:
            refuse(f"unknown kinds: {', '.join(unknown)} ({KINDS_HELP})", "invalid", as_json)
    if language is not None and language not in ("nl", "en"):
        refuse("--language: nl or en", "invalid", as_json)
    given = {
        "email": email,
        "webhook_url": webhook,
        "kinds": kinds,
        "digest": digest,
        "language": language,
    }
    fields: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    fields |= {k: None for k in ("email", "webhook_url") if fields.get(k) == ""}  # '': stop
    reads = current.read_store.engine
    store.create_tables(reads)
    row = store.subscribe(reads, identity, actor, **fields)
    if as_json:
        emit_json(row.model_dump(mode="json"))
        return
    where = ", ".join(a for _, a in row.addresses()) or "nowhere (no address)"
    what = "the Monday digest only" if row.digest else f"kinds {row.kinds}"
    console.print(f"{identity}: {what}, to {where}, in {row.language}", highlight=False)


def _may_set(current: Any, identity: str, actor: str, as_json: bool) -> None:
    """Refused unless both are in the authority register and the actor is the identity
    itself or a manager."""
    register = current.engine.register()
    if register is None:
        refuse("no authority register yet: start it with `kringloop init`", "not_found", as_json)
    if identity in register.forgotten:
        refuse(
            f"the personal data of {identity} was erased: no address is kept for them again",
            "refused",
            as_json,
        )
    for who in dict.fromkeys((identity, actor)):
        if who not in register.roles:
            refuse(
                f"{who} is not in the authority register: only its identities are notified",
                "not_found",
                as_json,
            )
    if actor != identity and register.grant_of(actor, "manager", _today(None)) is None:
        refuse(
            f"{actor} may set only their own notifications (a manager may set anyone's)",
            "forbidden",
            as_json,
        )


@notifications_app.command("unsubscribe")
def unsubscribe(
    ctx: typer.Context,
    identity: IdentityArgument,
    actor: ActorOption,
    as_json: JsonFlag = False,
) -> None:
    """Stop every notification to IDENTITY and forget its e-mail address and webhook (the
    log of what was sent stays)."""
    from adapters.notifications import store

    current = session(ctx)
    _may_set(current, identity, actor, as_json)
    reads = current.read_store.engine
    store.create_tables(reads)
    forgotten = store.unsubscribe(reads, identity)
    if as_json:
        emit_json({"identity": identity, "unsubscribed": forgotten})
    else:
        said = "no longer notified" if forgotten else "was not subscribed"
        console.print(f"{identity}: {said}", highlight=False)


@notifications_app.command("subscriptions")
def list_subscriptions(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Who hears what, where and in which language."""
    from adapters.notifications import store

    reads = session(ctx).read_store.engine
    store.create_tables(reads)
    rows = store.subscriptions(reads)
    if as_json:
        emit_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table(title="Subscriptions")
    for column in ("identity", "kinds", "when", "e-mail", "webhook", "language", "set by"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r.identity,
            r.kinds,
            "Monday digest" if r.digest else "at once",
            r.email or "",
            r.webhook_url or "",
            r.language,
            r.updated_by,
        )
    console.print(table)


@notifications_app.command("list")
def list_messages(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="pending, sent or failed")] = None,
    limit: Annotated[int, typer.Option(help="at most this many, newest first")] = 100,
    as_json: JsonFlag = False,
) -> None:
    """The notifications made from the outbox, newest first: to whom, how, and how delivery
    went (attempts, the last error)."""
    from adapters.notifications import store

    if status is not None and status not in store.STATUSES:
        refuse("--status: pending, sent or failed", "invalid", as_json)
    reads = session(ctx).read_store.engine
    store.create_tables(reads)
    rows = store.messages(reads, status, limit)
    if as_json:
        emit_json([_plain(r) for r in rows])
        return
    table = Table(title="Notifications")
    for column in ("id", "kind", "to", "via", "status", "attempts", "last error"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r.id[:12],
            r.kind,
            r.recipient,
            f"{r.channel}: {r.address}",
            r.status,
            str(r.attempts),
            r.last_error[:60],
        )
    console.print(table)


def _plain(row: Any) -> dict[str, Any]:
    """A message for --json: its notice's data as an object, not a string of JSON."""
    import json

    found: dict[str, Any] = row.model_dump(mode="json")
    found["data"] = json.loads(found["data"])
    return found


@notifications_app.command("retry")
def retry(
    ctx: typer.Context,
    message: Annotated[str, typer.Argument(help="the id (or its first 12 characters)")],
    as_json: JsonFlag = False,
) -> None:
    """Put a failed notification back in the queue; the next delivery sends it."""
    from adapters.notifications import store

    if len(message) < 6:
        refuse("give the notification's id, at least its first 6 characters", "invalid", as_json)
    reads = session(ctx).read_store.engine
    store.create_tables(reads)
    matches = [r.id for r in store.messages(reads, None, 100_000) if r.id.startswith(message)]
    if len(matches) != 1:
        refuse(
            f"no notification {message}" if not matches else f"{message} is ambiguous",
            "not_found",
            as_json,
        )
    before = next(r for r in store.messages(reads, None, 100_000) if r.id == matches[0])
    if before.status == "sent":
        refuse(f"{before.id[:12]} was sent already: nothing to retry", "invalid", as_json)
    row = store.retry(reads, matches[0])
    if row is None:
        refuse(f"no notification {message}", "not_found", as_json)
    if as_json:
        emit_json(_plain(row))
    else:
        console.print(
            f"{row.id[:12]}: back in the queue (it was {before.status}); `kringloop "
            "notifications deliver` or the next delivery sends it",
            highlight=False,
        )


@notifications_app.command("deliver")
def deliver_now(
    ctx: typer.Context,
    today: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: today)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Send what is due now, as the deliver-notifications flow does every minute: new notices
    become messages, failed tries are retried when their back-off has passed."""
    from adapters.notifications.deliver import deliver

    current = session(ctx)
    reads = current.fresh_reads()
    done = deliver(current.engine, reads.engine, current.settings, _today(today))
    if as_json:
        emit_json(done.as_dict())
        return
    console.print(
        f"{done.queued} new, {done.sent} sent, {done.retrying} to retry, {done.deferred} "
        f"waiting for their server, {done.failed} failed"
        f" ({done.unaddressed} without an address, {done.too_old} about old decisions)",
        highlight=False,
    )
    for error in done.errors:
        console.print(f"  {error}", highlight=False, markup=False)


@notifications_app.command("digest")
def digest(
    ctx: typer.Context,
    programme_id: Annotated[str, typer.Option("--programme")] = "mra-circular",
    today: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: today)")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Queue the week's digest for the programme office now (once per ISO week: the
    weekly-digest flow does it on Mondays); `deliver` sends it."""
    from sqlmodel import Session

    from adapters.notifications.deliver import weekly_digest
    from domain.engine import today_in_programme_tz
    from projections.tables import ProgrammeRow

    current = session(ctx)
    reads = current.fresh_reads()
    day = _today(today)
    if day > today_in_programme_tz():
        refuse(
            f"--today {day}: a week's digest is queued in that week or later", "invalid", as_json
        )
    with Session(reads.engine) as db:
        known = db.get(ProgrammeRow, programme_id)
    if known is None:
        refuse(f"no programme {programme_id}", "not_found", as_json)
    notice = weekly_digest(current.engine, reads, day, programme_id)
    if as_json:
        emit_json({"digest": notice.key if notice else None})
    else:
        console.print(
            f"the week's digest: {notice.key} (queued once per week; a second time changes nothing)"
            if notice
            else "this store has no outbox",
            highlight=False,
        )
