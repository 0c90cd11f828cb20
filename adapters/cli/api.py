"""`kringloop api` serves the HTTP API and the web pages; `kringloop users` manages who may
use them. FastAPI and uvicorn are imported only when these commands run."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from adapters.cli.context import console, emit_json, errors, refusals, refuse, session

users_app = typer.Typer(
    help="API users: add (issues a token), list, revoke, reissue.", no_args_is_help=True
)
JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]


def _users_engine(ctx: typer.Context):  # type: ignore[no-untyped-def]
    from adapters.accounts.users import create_table

    engine = session(ctx).read_store.engine
    create_table(engine)
    return engine


@users_app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="the user's id: the actor of their decisions")],
    role: Annotated[str, typer.Option("--role", help="broker, auditor, manager or organisation")],
    organisation: Annotated[
        str | None, typer.Option(help="with --role organisation: the organisation it speaks for")
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            envvar="KRINGLOOP_ACTOR",
            help="the manager who grants the role (recorded as a decision) [env KRINGLOOP_ACTOR]",
        ),
    ] = None,
    reason: Annotated[str, typer.Option(help="why the role is granted")] = "access to Kringloop",
    person_name: Annotated[
        str | None,
        typer.Option(
            help="the person's name, recorded in the authority register as personal data "
            "(sealed with their own key; erasable with `kringloop privacy forget`)"
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a user and print their bearer token once (only its SHA-256 hash is stored). The
    role is a recorded decision: once the authority register exists (`kringloop init`), the
    manager given by --actor grants it (`authority grant-role`), and the API and the pages
    take the user's role from the record. With --person-name the manager also records who
    the person is (`authority name-person`)."""
    from adapters.accounts.users import Role, add_user, check_new_name
    from domain.errors import InvalidCommandError

    with refusals(as_json):
        if role not in {r.value for r in Role}:
            raise InvalidCommandError(
                f"--role {role!r}: use broker, auditor, manager or organisation"
            )
        name = check_new_name(_users_engine(ctx), name)
        granted = _grant_role(ctx, name, role, organisation, actor, reason)
        if person_name and granted is not None:
            _name_person(ctx, name, person_name, actor)
        token = add_user(_users_engine(ctx), name, Role(role))
    if as_json:
        emit_json({"name": name, "role": role, "token": token, "role_decision": granted})
        return
    console.print(token, highlight=False)
    errors.print(
        f"token for {name} ({role}): shown once, keep it safe", highlight=False, markup=False
    )
    if granted is None:
        errors.print(
            "no authority register yet: the role is the token's only, not recorded "
            "(start one with `kringloop init --manager NAME`)",
            highlight=False,
            markup=False,
        )


def _name_person(ctx: typer.Context, identity: str, person_name: str, actor: str | None) -> None:
    from domain.commands.authority import NamePerson
    from domain.commands.catalogue import validate_command

    fields = {
        "identity": identity,
        "name": person_name,
        "actor": actor,
        "reason": "the person behind a new user",
    }
    session(ctx).execute(validate_command(NamePerson, fields))


def _grant_role(
    ctx: typer.Context,
    name: str,
    role: str,
    organisation: str | None,
    actor: str | None,
    reason: str,
) -> str | None:
    """Record the role as the manager's decision, unless the identity holds it already;
    the command id of the grant, or None without a register."""
    from domain.commands.authority import GrantRole
    from domain.commands.catalogue import validate_command
    from domain.errors import InvalidCommandError

    engine = session(ctx).engine
    register = engine.register()
    if register is None:
        return None
    held = register.grant_of(name, role, engine.clock(), organisation)
    if held is not None:
        return held
    if not actor:
        raise InvalidCommandError(
            "say which manager grants the role: --actor NAME or KRINGLOOP_ACTOR"
        )
    fields = {"identity": name, "role": role, "actor": actor, "reason": reason}
    if organisation:
        fields["organisation"] = organisation
    outcome = session(ctx).execute(validate_command(GrantRole, fields))
    return outcome.command_id


@users_app.command("list")
def list_(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Every user, their role and whether they are revoked (never a token)."""
    from adapters.accounts.users import list_users

    found = list_users(_users_engine(ctx))
    rows = [
        {
            "name": u.name,
            "role": u.role,
            "created_at": u.created_at.isoformat(timespec="seconds"),
            "revoked_at": u.revoked_at.isoformat(timespec="seconds") if u.revoked_at else None,
        }
        for u in found
    ]
    if as_json:
        emit_json(rows)
        return
    table = Table(title="Users")
    for column in ("name", "role", "created_at", "revoked_at"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c] or "") for c in ("name", "role", "created_at", "revoked_at")))
    console.print(table)


@users_app.command("revoke")
def revoke(ctx: typer.Context, name: str, as_json: JsonFlag = False) -> None:
    """Revoke a user's token: the API and the pages refuse it from now on, and its web
    sessions end. The name stays listed and is not reused (`users reissue` revives it)."""
    from adapters.accounts.users import revoke_user

    with refusals(as_json):
        revoke_user(_users_engine(ctx), name)
    if as_json:
        emit_json({"revoked": name})
    else:
        from adapters.cli.words import _

        console.print(_("revoked {name}").format(name=name), highlight=False)


@users_app.command("reissue")
def reissue(ctx: typer.Context, name: str, as_json: JsonFlag = False) -> None:
    """Give a user (revoked or not) a new token, printed once; the old token stops working
    and every web session it opened ends. The role stays as it was."""
    from adapters.accounts.users import reissue_user

    register = session(ctx).engine.register()
    if register is not None and name in register.forgotten:
        refuse(
            f"the personal data of {name} was erased: the identity is not used again",
            "refused",
            as_json,
        )
    with refusals(as_json):
        token = reissue_user(_users_engine(ctx), name)
    if as_json:
        emit_json({"name": name, "token": token})
        return
    console.print(token, highlight=False)
    errors.print(
        f"new token for {name}: shown once, keep it safe; the old token and its sessions are ended",
        highlight=False,
        markup=False,
    )


def api(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on", min=1, max=65535)] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            help="processes that serve requests, each answering any of them: sessions and "
            "the login throttle are shared through the database",
            min=1,
        ),
    ] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) and the web pages with uvicorn."""
    import os
    import secrets

    import uvicorn

    from adapters.settings import ETAG_SALT

    settings = session(ctx).settings
    os.environ.update(settings.environment())  # the app reads the settings as given here
    # one ETag salt for every worker of this run: a client sent to another worker still
    # gets its 304 (a new run, perhaps a new version of the pages, gets a new salt)
    os.environ[ETAG_SALT] = secrets.token_hex(8)
    uvicorn.run(
        # by name, as any ASGI server starts it: the command line does not import the API;
        # several workers are processes of their own, which set up their logging themselves
        "adapters.api.workers:create_worker_app" if workers > 1 else "adapters.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        # forwarded headers are the app's business, from KRINGLOOP_TRUSTED_PROXIES only:
        # uvicorn would otherwise believe any X-Forwarded-For sent from 127.0.0.1
        proxy_headers=False,
        forwarded_allow_ips="",
    )


def register_api(app: typer.Typer) -> None:
    app.command("api")(api)
    from adapters.cli import oidc_links  # noqa: F401  (registers users link, unlink, links)

    app.add_typer(users_app, name="users")
