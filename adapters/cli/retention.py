"""`kringloop retention`: the retention table (Archiefwet), what is past its period, and
destruction lists approved by a manager and carried out (adapters.retention)."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from adapters.cli.context import (
    console,
    emit_json,
    errors,
    parse_day,
    refusals,
    refuse,
    session,
)
from adapters.cli.words import _, words
from domain.archive import AFTER_EFFECTIVE, AFTER_END, RECORD_KINDS, RULES
from domain.messages import N_

retention_app = typer.Typer(
    help="Retention and destruction (Archiefwet): the table in force, what is due, "
    "destruction lists approved and carried out.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
CsvFlag = Annotated[bool, typer.Option("--csv", help="print CSV (';', for Excel)")]
Actor = Annotated[str, typer.Option("--actor", help="who decides (a manager)")]
Reason = Annotated[str, typer.Option("--reason", help="why: the decision's justification")]
Programme = Annotated[
    str, typer.Option("--programme", help="the programme whose managers decide retention")
]
DUE_FIELDS = ("aggregate", "name", "version", "event", "record_kind", "rule", "due_on")
LIST_FIELDS = ("list", "approved_on", "approved_by", "reason", *DUE_FIELDS, "content_hash")
HEADERS = {
    "aggregate": N_("aggregate"),
    "name": N_("name"),
    "version": N_("version"),
    "event": N_("event"),
    "record_kind": N_("record_kind"),
    "rule": N_("rule"),
    "due_on": N_("due_on"),
    "list": N_("list"),
    "approved_on": N_("approved_on"),
    "approved_by": N_("approved_by"),
    "reason": N_("reason"),
    "content_hash": N_("content_hash"),
    "kind": N_("kind"),
    "category": N_("category"),
    "period": N_("period"),
}
"""The CSV columns: in English the fields' own names (as --json has them), else translated
(a spreadsheet is read by people)."""


def _csv(rows: list[dict[str, Any]], fields: tuple[str, ...]) -> None:
    writer = csv.DictWriter(sys.stdout, fields, delimiter=";", extrasaction="ignore")
    writer.writerow({f: _(HEADERS.get(f, f)) for f in fields})
    writer.writerows(rows)


def _load(path: Path, as_json: bool) -> Any:
    """The JSON in a file, or one line saying why it cannot be read, and exit 1."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        refuse(_("cannot read {path}: {error}").format(path=path, error=reason), "invalid", as_json)


def _read(path: Path, as_json: bool) -> dict[str, Any]:
    found = _load(path, as_json)
    if not isinstance(found, dict):
        refuse(_("{path} is not a destruction list").format(path=path), "invalid", as_json)
    return found


def _write(path: Path, data: dict[str, Any], as_json: bool) -> None:
    try:
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as error:
        refuse(
            _("cannot write {path}: {error}").format(path=path, error=error.strerror or error),
            "invalid",
            as_json,
        )


def period(rule: dict[str, Any]) -> str:
    """A rule in the CLI's language: "permanent", "10 years after the initiative ends"."""
    w, years = words(), int(rule.get("years") or 0)
    if rule.get("rule") == AFTER_END:
        said = w.ngettext(
            "{n} year after the initiative ends", "{n} years after the initiative ends", years
        )
    elif rule.get("rule") == AFTER_EFFECTIVE:
        said = w.ngettext(
            "{n} year after the decision took effect",
            "{n} years after the decision took effect",
            years,
        )
    else:
        return _("permanent")
    return said.format(n=years)


def _opened(ctx: typer.Context, actor: str, reason: str, programme: str, command_id: str) -> None:
    """Open the archive's record with the first decision on it (once)."""
    from adapters.retention import archive_of
    from domain.commands.archive import OpenArchive

    current = session(ctx)
    if archive_of(current.engine) is None:
        current.execute(
            OpenArchive(
                command_id=f"{command_id}-open", actor=actor, reason=reason, programme_id=programme
            )
        )


@retention_app.command("categories")
def categories(ctx: typer.Context, as_json: JsonFlag = False, as_csv: CsvFlag = False) -> None:
    """The retention table in force: each kind of record, its category and period, and
    the decision it rests on (or the default, until one is decided)."""
    from adapters.retention import in_force, rule_words

    with refusals(as_json):
        found = in_force(session(ctx).engine)
    since = found.since.isoformat() if found.since else None
    if as_json:
        rows = [{**r, "period": rule_words(r)} for r in found.rows]
        emit_json({"since": since, "decision": found.command_id or None, "table": rows})
        return
    said = [{**r, "category": _(r["category"]), "period": period(r)} for r in found.rows]
    if as_csv:
        _csv(said, ("kind", "category", "period"))
        return
    console.print(
        _("in force since {day} (decision {decision})").format(
            day=words().day(found.since), decision=found.command_id
        )
        if found.since
        else _("the default table (no retention table decided yet)"),
        highlight=False,
        markup=False,
    )
    for r in said:
        console.print(
            f"{r['kind']:<24} {r['period']:<40} {r['category']}", highlight=False, markup=False
        )


@retention_app.command(
    "set",
    help='Decide a new retention table from FILE: a JSON list (or {"table": [...]}, as '
    "`retention categories --json` prints it) of {kind, category, rule, years}. "
    f"Kinds (each named once): {', '.join(RECORD_KINDS)}. "
    f"Rules: {', '.join(RULES)} ({AFTER_END} and {AFTER_EFFECTIVE} need years, 1 or more; "
    "destruction-lists stays permanent).",
)
def set_table(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="the table as JSON (see --json)")],
    actor: Actor,
    reason: Reason,
    programme: Programme = "mra-circular",
    as_json: JsonFlag = False,
) -> None:
    from domain.commands.archive import SetRetention
    from domain.commands.catalogue import validate_command

    raw: Any = _load(file, as_json)
    rows = raw.get("table") if isinstance(raw, dict) else raw
    if not isinstance(rows, list):
        refuse(_("{path} holds no retention table").format(path=file), "invalid", as_json)
    rows = [{k: v for k, v in r.items() if k != "period"} for r in rows if isinstance(r, dict)]
    with refusals(as_json):
        command = validate_command(SetRetention, {"actor": actor, "reason": reason, "rows": rows})
        _opened(ctx, actor, reason, programme, command.command_id)
        outcome = session(ctx).execute(command)
    if as_json:
        emit_json(outcome)
    else:
        console.print(_("retention table recorded (decision {id})").format(id=command.command_id))


@retention_app.command("due")
def list_due(
    ctx: typer.Context,
    on: Annotated[str | None, typer.Option("--on", help="the day (default: today)")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="write a draft destruction list (JSON)")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="with --out: replace a file holding an approved list")
    ] = False,
    as_json: JsonFlag = False,
    as_csv: CsvFlag = False,
) -> None:
    """The stored events past their retention period on a day. A record's first event
    (its creation) is never listed: the rest of the record rests on it. --out writes a
    draft for `retention approve`, which approves it for the day it is approved on."""
    from adapters.retention import due, in_force

    with refusals(as_json):
        engine = session(ctx).engine
        today = engine.clock()
        day = parse_day(on, "--on", as_json) if on else today
        found = due(engine, day)
        table = in_force(engine)
    if out is not None:
        _draft(out, day, today, table.since, found, force, as_json)
    if as_json:
        emit_json({"on": day.isoformat(), "due": found})
        return
    rules = {r["kind"]: r for r in table.rows}
    said = [{**e, "rule": period(rules.get(e["record_kind"], {}))} for e in found]
    if as_csv:
        _csv(said, DUE_FIELDS)
        return
    for e in said:
        console.print(
            _("{record} version {version} {event} ({kind}, {period}, due {day})").format(
                record=e["name"] or e["aggregate"],
                version=e["version"],
                event=e["event"],
                kind=e["record_kind"],
                period=e["rule"],
                day=words().day(e["due_on"]),
            ),
            highlight=False,
            markup=False,
        )
    console.print(
        _("{n} records past their period on {day}").format(n=len(found), day=words().day(day)),
        highlight=False,
    )


def _draft(
    out: Path,
    day: date,
    today: date,
    since: date | None,
    found: list[dict[str, Any]],
    force: bool,
    as_json: bool,
) -> None:
    """Write a draft list, but never over an approved one (unless --force)."""
    if out.is_file() and not force:
        try:
            earlier = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            earlier = None
        if isinstance(earlier, dict) and earlier.get("list") is not None:
            refuse(
                _(
                    "{path} holds approved destruction list {n}: write the draft to another "
                    "file, or give --force to replace it"
                ).format(path=out, n=earlier["list"]),
                "conflict",
                as_json,
            )
    draft = {
        "on": day.isoformat(),
        "table_since": since.isoformat() if since else None,
        "list": None,
        "entries": found,
    }
    _write(out, draft, as_json)
    if day > today:
        errors.print(
            _(
                "note: {path} lists what is due on {day}, after today: it can be approved "
                "only on or after that day"
            ).format(path=out, day=words().day(day)),
            highlight=False,
            markup=False,
        )


@retention_app.command("approve")
def approve(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="LIST.json", exists=True, dir_okay=False)],
    actor: Actor,
    reason: Reason,
    programme: Programme = "mra-circular",
    as_json: JsonFlag = False,
) -> None:
    """Approve a draft destruction list (from `retention due --out`): recorded as a
    decision, with the next list number, written back into the file."""
    from adapters.retention import archive_of
    from domain.commands.archive import ApproveDestruction
    from domain.commands.catalogue import validate_command

    draft = _read(file, as_json)
    if draft.get("list") is not None:
        refuse(_("list {n} was approved already").format(n=draft["list"]), "conflict", as_json)
    fields = {"actor": actor, "reason": reason, "entries": draft.get("entries") or []}
    with refusals(as_json):
        command = validate_command(ApproveDestruction, fields)
        _opened(ctx, actor, reason, programme, command.command_id)
        outcome = session(ctx).execute(command)
        archive = archive_of(session(ctx).engine)
    number = archive.lists[-1]["number"] if archive and archive.lists else None
    draft["list"] = number
    _write(file, draft, as_json)
    if as_json:
        emit_json({"list": number, "entries": len(fields["entries"]), **outcome.model_dump()})
    else:
        console.print(
            _("destruction list {n} approved ({count} records)").format(
                n=number, count=len(fields["entries"])
            )
        )


@retention_app.command("destroy")
def destroy(
    ctx: typer.Context,
    list_file: Annotated[
        Path, typer.Option("--list", metavar="LIST.json", exists=True, dir_okay=False)
    ],
    as_json: JsonFlag = False,
) -> None:
    """Carry out an approved destruction list: each event's content is replaced by a
    tombstone that keeps its content hash and chain link; the old bytes are overwritten,
    snapshots dropped, the read models rebuilt. Refused, whole, unless the file names
    exactly the entries approved, each still past its period. A run cut short is carried
    on: the entries destroyed already are skipped."""
    from adapters.retention import destroy as carry_out

    draft = _read(list_file, as_json)
    current = session(ctx)
    with refusals(as_json):
        done = carry_out(current, draft, current.engine.clock())
    if as_json:
        emit_json(vars(done))
        return
    console.print(
        _("{n} events destroyed under list {number}; read models rebuilt").format(
            n=done.destroyed, number=done.number
        ),
        highlight=False,
    )
    if done.before:
        console.print(
            _("{n} events of list {number} were destroyed before").format(
                n=done.before, number=done.number
            ),
            highlight=False,
        )


@retention_app.command("lists")
def lists(ctx: typer.Context, as_json: JsonFlag = False, as_csv: CsvFlag = False) -> None:
    """Every approved destruction list: what, why, by whom, when (kept permanently)."""
    from adapters.retention import archive_of

    with refusals(as_json):
        archive = archive_of(session(ctx).engine)
    found = list(archive.lists) if archive else []
    if as_json:
        emit_json(found)
    elif as_csv:
        _csv(
            [
                {"list": f["number"], **{k: f[k] for k in ("approved_on", "approved_by")}, **e}
                | {"reason": f["reason"]}
                for f in found
                for e in f["entries"]
            ],
            LIST_FIELDS,
        )
    else:
        for f in found:
            console.print(
                f"{f['number']}: {words().day(f['approved_on'])} {f['approved_by']} "
                f"({len(f['entries'])}) {f['reason']}",
                highlight=False,
                markup=False,
            )
