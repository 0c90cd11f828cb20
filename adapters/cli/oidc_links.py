"""`kringloop users link|unlink|links`: which OpenID provider subject logs in as which user
(single sign-on; README "Single sign-on"). Registered on ``users`` by ``register_api``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from adapters.cli.api import JsonFlag, _users_engine, users_app
from adapters.cli.context import console, emit_json, refusals

Issuer = Annotated[
    str | None, typer.Option("--issuer", help="the provider's issuer URL, as its tokens' iss")
]
Subject = Annotated[
    str | None, typer.Option("--subject", help="the provider's sub for this person")
]


@users_app.command("link")
def link(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="the Kringloop user to log in as")],
    issuer: Annotated[str, typer.Option("--issuer", help="the provider's issuer URL")],
    subject: Annotated[str, typer.Option("--subject", help="the provider's sub claim")],
    as_json: JsonFlag = False,
) -> None:
    """Let a subject of the OpenID provider log in as NAME (pages and API): the subject is
    shown on the page someone sees when they log in unlinked."""
    from adapters.accounts.oidc_links import link_subject

    with refusals(as_json):
        row = link_subject(_users_engine(ctx), name, issuer, subject)
    if as_json:
        emit_json({"name": name, "issuer": row.issuer, "subject": row.subject, "link": row.id})
        return
    console.print(f"linked {subject} of {issuer} to {name}", highlight=False, markup=False)


@users_app.command("unlink")
def unlink(
    ctx: typer.Context,
    name: str,
    issuer: Issuer = None,
    subject: Subject = None,
    as_json: JsonFlag = False,
) -> None:
    """Remove NAME's link to a subject (--issuer and --subject), or every link of NAME
    (neither); the web sessions the link opened end."""
    from adapters.accounts.oidc_links import unlink_subject

    with refusals(as_json):
        rows = unlink_subject(_users_engine(ctx), name, issuer, subject)
    removed = [{"issuer": r.issuer, "subject": r.subject, "link": r.id} for r in rows]
    if as_json:
        emit_json({"name": name, "unlinked": removed})
        return
    for row in rows:
        console.print(
            f"unlinked {row.subject} of {row.issuer} from {name}", highlight=False, markup=False
        )


@users_app.command("links")
def links(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="only this user's links")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every link of a provider subject to a user, and its last login's assurance level."""
    from adapters.accounts.oidc_links import list_links

    rows = [
        {
            "name": r.user_name,
            "issuer": r.issuer,
            "subject": r.subject,
            "created_at": r.created_at.isoformat(timespec="seconds"),
            "last_login_at": r.last_login_at.isoformat(timespec="seconds")
            if r.last_login_at
            else None,
            "last_acr": r.last_acr,
        }
        for r in list_links(_users_engine(ctx), name)
    ]
    if as_json:
        emit_json(rows)
        return
    table = Table(title="Single sign-on links")
    columns = ("name", "issuer", "subject", "last_login_at", "last_acr")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c] or "") for c in columns))
    console.print(table)
