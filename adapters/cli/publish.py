"""`kringloop publish`: active publication under the Woo. Writes the programme's public
decision log (JSON, CSV, an HTML index) with a signed manifest; `publish check` verifies
a published folder offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from adapters.cli.context import console, emit_json, errors, refusals, refuse, session

publish_app = typer.Typer(
    help="Publish the public decision log (Woo), and check a published folder offline.",
    invoke_without_command=True,
    rich_markup_mode=None,
)
JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]


@publish_app.callback()
def write(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option("--out", help="the folder to write", file_okay=False)
    ] = None,
    programme: Annotated[str, typer.Option("--programme", help="the programme")] = ("mra-circular"),
    as_json: JsonFlag = False,
) -> None:
    """Write the decisions the programme publishes (consortia formed, Board withdrawals,
    every programme decision), without personal data, and its targets and progress, to
    --out: besluiten.json/.csv, voortgang.json/.csv, index.html and manifest.json (signed
    with the audit signing key). Run it again to add only the decisions published since."""
    if ctx.invoked_subcommand is not None:
        return
    if out is None:
        refuse("give --out DIR (or `publish check DIR`)", "invalid", as_json)
    from adapters.cli.words import _
    from adapters.publication import publish

    with refusals(as_json):
        try:
            done = publish(session(ctx), out, programme)
        except ValueError as error:
            refuse(str(error), "not_found", as_json)
        except OSError as error:  # a folder that cannot be made or written (/proc/woo)
            refuse(
                _("cannot write to {path}: {error}").format(
                    path=out, error=error.strerror or error
                ),
                "invalid",
                as_json,
            )
    if as_json:
        emit_json({"out": str(out), "added": done.added, "total": done.total, "files": done.files})
    else:
        console.print(
            f"published {done.total} decisions ({done.added} new) to {out}", highlight=False
        )


@publish_app.command("check")
def check(
    folder: Annotated[Path, typer.Argument(metavar="DIR", exists=True, file_okay=False)],
    public_key: Annotated[
        str | None,
        typer.Option("--public-key", help="as `audit public-key` printed it"),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check a published folder offline: every file's hash and the manifest's signature.
    Without --public-key the key in the manifest is used: that shows the files are as
    signed, not who signed them. Exit 1 naming what fails."""
    from adapters.publication import check as check_folder

    problems = check_folder(folder, public_key)
    key_from = "given" if public_key else "manifest"
    if as_json:
        emit_json({"ok": not problems, "public_key_from": key_from, "problems": problems})
    else:
        if not public_key:
            console.print(
                "checked with the public key in the manifest: give --public-key to check "
                "who signed it",
                highlight=False,
            )
        for problem in problems:
            errors.print(problem, highlight=False, markup=False)
        console.print("valid" if not problems else "INVALID", highlight=False)
    if problems:
        raise typer.Exit(1)


@publish_app.command("kinds")
def kinds(
    ctx: typer.Context,
    programme: Annotated[str, typer.Option("--programme", help="the programme")] = ("mra-circular"),
    as_json: JsonFlag = False,
) -> None:
    """List the kinds of decision the programme publishes now, with their Dutch titles, and
    whether the programme decided them (`programme set-publication`, by which decision) or
    the default applies."""
    from adapters.cli.words import _, words
    from adapters.publication import kinds_in_force

    with refusals(as_json):
        try:
            found = kinds_in_force(session(ctx), programme)
        except ValueError as error:
            refuse(str(error), "not_found", as_json)
    decision = found.manifest()["decided_by"]
    if as_json:
        emit_json(
            {
                "programme": programme,
                "decided": found.decided,
                "decided_by": decision,
                "kinds": found.listed(),
            }
        )
        return
    if found.effective is None:
        said = _("the default: the programme has not decided which decisions it publishes")
    else:
        said = _("decided by {command_id}, effective {day}").format(
            command_id=found.command_id, day=words().day(found.effective)
        )
    console.print(f"{programme}: {said}", highlight=False, markup=False)
    for kind in found.listed():
        console.print(f"  {kind['kind']:<40} {kind['title']}", highlight=False, markup=False)
