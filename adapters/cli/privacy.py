"""`kringloop privacy`: a data subject's rights over the record (AVG/GDPR). `privacy report`
lists where a person's data is (article 15); `privacy forget` erases it (article 17) with
the chain intact (adapters.privacy.subjects)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adapters.cli.context import console, emit_json, errors, refusals, refuse, session
from adapters.cli.exporting import FormatOption, OutOption, export_asked, write_export
from adapters.cli.words import _, term, words
from domain.messages import N_

if TYPE_CHECKING:
    from adapters.privacy.subjects import AccessReport
    from adapters.tabular import Table

privacy_app = typer.Typer(
    help="Personal data (AVG): where a person's data is (report), and erasing it (forget). "
    "Name the person behind an identity with `kringloop authority name-person`.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
SubjectArgument = Annotated[
    str, typer.Argument(metavar="SUBJECT", help="the identity, as in the authority register")
]


@privacy_app.command("report")
def report(
    ctx: typer.Context,
    subject: SubjectArgument,
    as_json: JsonFlag = False,
    export_format: FormatOption = None,
    out: OutOption = None,
) -> None:
    """List every place SUBJECT's data is, for an access request (AVG article 15): their
    name in the authority register, their roles, the decisions they took or recorded or that
    are about them (how many, from when to when), their mandates and initiatives, and beside
    the record their account, identity-provider links, sessions, subscription and messages."""
    from adapters.privacy.subjects import report as access_report

    export = export_asked(ctx, export_format, out, None, as_json)
    with refusals(as_json):
        found = access_report(session(ctx), subject)
    if export is not None:
        write_export(export, _table(found))
        return
    if as_json:
        emit_json(
            {
                "subject": found.subject,
                "name": found.name,
                "erased": found.erased,
                "forgotten": found.forgotten,
                "places": [vars(p) for p in found.places],
            }
        )
        return
    _print(found)


def _print(found: AccessReport) -> None:
    from rich.table import Table as Shown

    title = _("Where the data of {subject} is").format(subject=found.subject)
    shown = Shown(title=title, title_justify="left")
    for header in (_("where"), _("what"), _("how many"), _("detail"), _("from"), _("until")):
        shown.add_column(header)
    said = words()
    for p in found.places:
        shown.add_row(
            _(p.where),
            _(p.what),
            said.number(p.count),
            _detail(p.detail, p.term),
            said.day(p.first) if p.first else "",
            said.day(p.last) if p.last else "",
            style=None,
        )
    console.print(shown)
    if found.forgotten:
        console.print(
            _("Their personal data was erased on {day} (request {request}).").format(
                day=said.day(found.forgotten["on"]), request=found.forgotten["request"]
            ),
            highlight=False,
        )


def _detail(detail: str, kind: str) -> str:
    """A place's detail in the CLI's language: a role or a kind of record in words."""
    if detail == "[erased]":
        return _("[erased]")
    if kind == "role":
        return term("role", detail)
    if kind == "record":
        return _(detail)
    return detail


def _table(found: AccessReport) -> Table:
    from adapters.tabular import ERASED, Column, Table

    return Table(
        name=f"access-report-{found.subject}",
        title=N_("Where the data of {subject} is"),
        title_args={"subject": found.subject},
        sheet=N_("Access report"),
        columns=(
            Column(N_("where"), worded=frozenset(p.where for p in found.places)),
            Column(N_("what"), worded=frozenset(p.what for p in found.places)),
            Column(N_("how many"), "int"),
            Column(N_("detail"), worded=frozenset({ERASED})),
            Column(N_("from"), "date"),
            Column(N_("until"), "date"),
        ),
        rows=[
            (
                p.where,
                p.what,
                p.count,
                ERASED if p.detail == "[erased]" else p.detail,
                p.first,
                p.last,
            )
            for p in found.places
        ],
    )


@privacy_app.command("forget")
def forget(
    ctx: typer.Context,
    subject: SubjectArgument,
    request: Annotated[
        str, typer.Option("--request", help="the request it answers: a case or letter number")
    ],
    reason: Annotated[str, typer.Option("--reason", help="why, in words an auditor reads")],
    actor: Annotated[
        str | None,
        typer.Option(
            envvar="KRINGLOOP_ACTOR",
            help="the manager who decides it (recorded) [env KRINGLOOP_ACTOR]",
        ),
    ] = None,
    command_id: Annotated[
        str | None,
        typer.Option(help="the decision's id: run again with it to finish an interrupted run"),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="go ahead without typing the identity to confirm")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Erase SUBJECT's personal data for good (AVG article 17). The manager's decision is
    recorded (who, why, on which request); then SUBJECT's key is destroyed, so their name
    reads "[verwijderd]" everywhere while every event stays as stored and `audit verify`
    stays clean; then their notification addresses, identity-provider links, sessions and
    preferences are removed. Revoke their account first (`kringloop users revoke`). Backups
    made before this still hold the key: they fall under their own retention."""
    from adapters.privacy.subjects import forget as erase
    from domain.commands.authority import ForgetSubject
    from domain.commands.catalogue import validate_command

    if not actor:
        refuse(
            _("say which manager decides it: --actor NAME or KRINGLOOP_ACTOR"), "invalid", as_json
        )
    if not yes:
        if not sys.stdin.isatty():
            refuse(_("this cannot be undone: add --yes to go ahead"), "invalid", as_json)
        typed = typer.prompt(
            _("This cannot be undone. Type {subject} to erase their personal data").format(
                subject=subject
            ),
            default="",
            show_default=False,
        )
        if typed.strip() != subject:
            refuse(_("not confirmed: nothing was erased"), "invalid", as_json)
    fields: dict[str, Any] = {
        "subject": subject,
        "request": request,
        "reason": reason,
        "actor": actor,
    }
    if command_id:
        fields["command_id"] = command_id
    with refusals(as_json):
        command = validate_command(ForgetSubject, fields)
        assert isinstance(command, ForgetSubject)  # noqa: S101 (for the type checker)
        done = erase(session(ctx), command)
    if as_json:
        emit_json(vars(done))
        return
    console.print(
        _("erased: the personal data of {subject} (decision {command_id})").format(
            subject=subject, command_id=done.command_id
        ),
        highlight=False,
    )
    if not done.key_destroyed:
        errors.print(_("there was no key left to destroy"), highlight=False)
    for what, count in done.removed.items():
        if count:
            console.print(f"  {_(what)}: {count}", highlight=False)
