"""`kringloop`: brokers decide, auditors read. Every command is a decision record."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adapters.cli.api import register_api
from adapters.cli.backup import register_backup
from adapters.cli.context import (
    Door,
    console,
    emit_json,
    errors,
    refusals,
    refuse,
    say_error,
    session,
)
from adapters.cli.lazy import CatalogueGroup
from adapters.cli.notifications import notifications_app
from adapters.cli.orchestration import register_orchestration
from adapters.cli.privacy import privacy_app
from adapters.cli.procurement import register_procurement
from adapters.cli.publish import publish_app
from adapters.cli.reads import register_reads
from adapters.cli.retention import retention_app
from adapters.cli.witness import witness_app
from domain.errors import InvalidCommandError, KringloopError, Message
from domain.messages import N_

if TYPE_CHECKING:  # imported by the commands that use them: `--help` and reads stay lean
    from adapters.commanding import ApplyReport
    from domain.commands.base import Command

app = typer.Typer(
    name="kringloop",
    help=__doc__,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
groups = {
    "programme": typer.Typer(
        cls=CatalogueGroup,
        help="Programme: members, phases, targets, streams, mandates.",
        no_args_is_help=True,
    ),
    "initiative": typer.Typer(
        cls=CatalogueGroup,
        help="Initiative: take one through its lifecycle, step by step.",
        no_args_is_help=True,
    ),
}
groups["authority"] = typer.Typer(
    cls=CatalogueGroup,
    help="Authority: who may decide what. Roles (manager, broker, auditor, organisation) "
    "are granted and revoked by recorded decisions; start the register with `kringloop init`.",
    no_args_is_help=True,
)
groups["procurement"] = typer.Typer(
    cls=CatalogueGroup,
    help="Circular procurement: commitments, spend reports, communities of practice.",
    no_args_is_help=True,
)
for group_name, group in groups.items():
    app.add_typer(group, name=group_name)
register_procurement(groups["procurement"])
register_reads(app, groups)
register_orchestration(app)
register_api(app)
register_backup(app)
app.add_typer(witness_app, name="witness")
app.add_typer(notifications_app, name="notifications")
app.add_typer(publish_app, name="publish")
app.add_typer(privacy_app, name="privacy")
app.add_typer(retention_app, name="retention")

JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option("--home", envvar="KRINGLOOP_HOME", help="data folder [default: ./.kringloop]"),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="KRINGLOOP_DATABASE_URL",
            help="postgresql://... to use PostgreSQL instead of the SQLite file",
        ),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option(
            "--log-level", envvar="KRINGLOOP_LOG_LEVEL", help="debug, info, warning, error"
        ),
    ] = None,
) -> None:
    overrides: dict[str, Any] = {}
    if home is not None:
        overrides["home"] = home
    if database_url is not None:
        overrides["database_url"] = database_url
    if log_level is not None:
        overrides["log_level"] = log_level
    from pydantic import ValidationError

    from adapters.settings import Settings

    try:
        settings = Settings(**overrides)
    except ValidationError as error:  # a setting that does not read: say which, no traceback
        refuse("; ".join(_setting_problem(e) for e in error.errors()), "invalid")
    ctx.obj = Door(settings)
    ctx.call_on_close(ctx.obj.close)


def _setting_problem(error: Any) -> str:
    """One setting's problem, named as the environment names it."""
    where = error.get("loc") or ()
    said = str(error.get("msg", "")).removeprefix("Value error, ")
    return f"KRINGLOOP_{str(where[0]).upper()}: {said}" if where else said


@groups["programme"].command("show")
def programme_show(
    ctx: typer.Context,
    programme_id: Annotated[str, typer.Argument(help="the programme's id")],
    as_json: JsonFlag = False,
) -> None:
    """Show a programme: phases, targets, streams and mandates."""
    from adapters.cli.show import print_programme
    from domain.reading import programme_state

    with refusals(as_json):
        state = programme_state(session(ctx).engine.programme(programme_id))
    if as_json:
        emit_json(state)
    else:
        print_programme(state)


@app.command("init")
def init(
    ctx: typer.Context,
    manager: Annotated[str, typer.Option(help="the first manager, who grants every other role")],
    reason: Annotated[
        str, typer.Option(help="why")
    ] = "the authority register is started with its first manager",
    effective: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-MM-DD", help="from when the manager holds the role [default: today]"
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Start the authority register: the one bootstrap decision, recorded as the operator's.
    Every later decision needs authority from it: the manager grants roles with
    `kringloop authority grant-role` and mandates with `kringloop programme grant-mandate`."""
    import getpass

    from domain.commands.authority import Initialise
    from domain.commands.catalogue import validate_command

    with refusals(as_json):
        fields = {"manager": manager, "reason": reason, "actor": f"operator:{getpass.getuser()}"}
        command = validate_command(
            Initialise, {**fields, **({"effective": effective} if effective else {})}
        )
        outcome = session(ctx).execute(command)
    if as_json:
        emit_json(outcome)
    else:
        console.print(
            f"authority register started: {manager} is manager "
            f"(decision {outcome.command_id}, by {command.actor})",
            highlight=False,
        )


@app.command("commands")
def commands(as_json: JsonFlag = False) -> None:
    """List every command the engine accepts, by its one name (the CLI sub-command, the
    JSON lines' "command" and the API's /api/commands/NAME); with --json, each one's JSON
    Schema."""
    from domain.commands.catalogue import CATALOGUE

    if as_json:
        emit_json(
            [
                {
                    "command": name,
                    "group": cls.group,
                    "cli": f"kringloop {cls.cli_group} {name}",
                    "api": f"POST /api/commands/{name}",
                    "former_names": list(cls.former_names + cls.former_verbs),
                    "description": cls.__doc__,
                    "schema": cls.model_json_schema(),
                }
                for name, cls in CATALOGUE.items()
            ]
        )
        return
    for name, cls in CATALOGUE.items():
        formerly = cls.former_names + cls.former_verbs
        console.print(
            f"kringloop {cls.cli_group + ' ' + name:38} {cls.__doc__}"
            + (f" (formerly {', '.join(formerly)})" if formerly else ""),
            highlight=False,
            soft_wrap=True,
        )


MAX_LINE_BYTES = 1024 * 1024  # as the API's request body limit


def _numbered_commands(path: Path) -> Iterator[tuple[int, Callable[[], Command]]]:
    """Each line that holds a command, numbered; a line over the limit is refused without
    being read whole (and nothing after it is read: applying stops there)."""
    with path.open("rb") as handle:
        for number, raw in enumerate(iter(lambda: handle.readline(MAX_LINE_BYTES + 1), b""), 1):
            if len(raw.rstrip(b"\r\n")) > MAX_LINE_BYTES:
                yield number, _too_long
                return
            if raw.strip() and not raw.lstrip().startswith(b"#"):
                yield number, functools.partial(_parse_line, raw)


def _too_long() -> Command:
    raise InvalidCommandError(
        N_(
            "line longer than {limit} bytes: no command is that large (a reason holds "
            "at most 2000 characters)"
        ),
        limit=MAX_LINE_BYTES,
    )


def _parse_line(raw: bytes) -> Command:
    try:
        text = raw.decode("utf-8-sig")  # a BOM, as some editors write
    except UnicodeDecodeError:
        raise InvalidCommandError(N_("not valid UTF-8")) from None
    from adapters.commanding import read_json

    payload = read_json(text, Message(N_("not a JSON object")))
    if not isinstance(payload, dict):
        raise InvalidCommandError(N_("not a JSON object"))
    from domain.commands.catalogue import parse_command  # builds the catalogue: only when applying

    return parse_command(payload)


def apply_file(ctx: typer.Context, path: Path, show_progress: bool) -> ApplyReport:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from adapters.commanding import apply_lines

    total = sum(1 for _ in _numbered_commands(path))
    with Progress(
        TextColumn("applying"),
        BarColumn(),
        MofNCompleteColumn(),
        console=errors,
        disable=not show_progress,
        transient=True,
    ) as bar:
        task = bar.add_task("apply", total=total)
        report = apply_lines(
            session(ctx).engine,
            _numbered_commands(path),
            on_progress=lambda n: bar.advance(task, n),
        )
    session(ctx).runner.wait_for(report.last_notification_id)  # reads see the whole file
    from adapters.audit.sealing import auto_seal

    auto_seal(session(ctx).engine, session(ctx).settings)
    return report


@app.command("apply")
def apply(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(
            help='JSON lines: one {"command": NAME, ...} per line',
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    as_json: JsonFlag = False,
) -> None:
    """Apply a file of commands in order. Stops at the first refused line and names it;
    run it again after the fix: lines already applied are recognised and skipped."""
    report = apply_file(ctx, path, show_progress=sys.stderr.isatty() and not as_json)
    summary = {
        "applied": report.applied,
        "already_applied": report.replayed,
        "last_notification_id": report.last_notification_id,
    }
    if report.stopped is not None:
        from adapters.cli.words import words
        from domain.errors import localise

        why = report.stopped.message
        wording = words()
        if report.stopped.error is not None and wording.lang != "en":
            why = localise(report.stopped.error, wording)
        message = f"{path}:{report.stopped.line}: {why}"
        if as_json:
            emit_json(
                {**summary, "error": "refused", "line": report.stopped.line, "message": message}
            )
            raise typer.Exit(1)
        console.print(f"applied {report.applied} before the stop", highlight=False)
        refuse(message)
    if as_json:
        emit_json(summary)
    else:
        console.print(
            f"applied {report.applied} commands, {report.replayed} already applied", highlight=False
        )


@app.command("demo")
def demo(
    ctx: typer.Context,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="delete the data folder's stores first")
    ] = False,
    scenario: Annotated[
        str, typer.Option(help="regional (the Amsterdam region) or first-steps (a small one)")
    ] = "regional",
    as_json: JsonFlag = False,
) -> None:
    """Load a scenario through the engine's commands and show the programme dashboard."""
    from adapters.cli.demo import run_demo  # only the demo needs the scenario machinery

    run_demo(ctx, fresh=fresh, as_json=as_json, scenario=scenario, apply=apply_file)


@app.command("report")
def report(
    ctx: typer.Context,
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="folder for report.pdf, index.html and the charts", file_okay=False
        ),
    ],
    programme: Annotated[str, typer.Option(help="the programme")] = "mra-circular",
    since: Annotated[
        int | None,
        typer.Option(help="first year of the target charts [default: the programme's first]"),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """A dated management report to sign: report.pdf (A4, page numbers) and index.html, the
    same page, with the targets year by year, procurement milestones and the pipeline; each
    chart with its data table, every figure from the read models as of one decision."""
    from adapters.report import write_report
    from projections.procurement import this_year

    current = session(ctx)
    written = write_report(
        current.engine, current.fresh_reads(), programme, out, since, this_year() - 1
    )
    if as_json:
        emit_json({"files": [str(p) for p in written]})
    else:
        console.print("wrote " + ", ".join(str(p) for p in written), highlight=False)


def main() -> None:
    """Run the CLI. A refusal or storage failure that no command caught (a locked store, a
    full disk, a lost server) still ends in one line and exit 1, never a traceback."""
    try:
        app()
    except Exception as error:
        from adapters.failures import storage_error

        failure = error if isinstance(error, KringloopError) else storage_error(error)
        if failure is None:
            raise
        say_error(failure, "--json" in sys.argv)
        sys.exit(1)
