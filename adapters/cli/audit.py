"""`kringloop audit`: replay who decided what, when and why; see any past state; check the
record has not been tampered with; export it signed; ask what if."""

from __future__ import annotations

import csv
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from adapters.cli.context import (
    console,
    emit_json,
    errors,
    parse_day,
    refusals,
    refuse,
    session,
)
from adapters.cli.exporting import (
    DelimiterOption,
    FormatOption,
    OutOption,
    export_asked,
    write_export,
)
from domain.errors import InvalidCommandError

audit_app = typer.Typer(
    help="Audit: history, past states, tamper evidence, signed exports, what-if.",
    no_args_is_help=True,
)
JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]


def _date(value: str, option: str) -> date:
    return parse_day(value, option)


@audit_app.command("history")
def history(
    ctx: typer.Context,
    initiative_id: Annotated[str, typer.Argument(metavar="INITIATIVE_ID")],
    as_json: JsonFlag = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="print plain CSV (','-separated; see --format)")
    ] = False,
    export_format: FormatOption = None,
    out: OutOption = None,
    csv_delimiter: DelimiterOption = None,
) -> None:
    """Every decision in order: recorded at, effective, step, who decided and who recorded
    it, the authority it rested on (the mandate or role grant, with who granted it and when),
    reason, evidence."""
    from adapters import tabular
    from adapters.audit.records import history as load

    export = export_asked(ctx, export_format, out, csv_delimiter, as_json)
    with refusals(as_json):
        lines = load(session(ctx).engine, initiative_id)
    if export:
        write_export(export, tabular.audit_history(initiative_id, lines))
        return
    if as_json:
        emit_json([asdict(line) for line in lines])
    elif as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(list(asdict(lines[0]))) if lines else None
        for line in lines:
            row = asdict(line)
            row["evidence"] = "; ".join(line.evidence)
            writer.writerow(row.values())
    else:
        table = Table(title=f"Decisions on {initiative_id}")
        for column in (
            "v",
            "recorded",
            "effective",
            "step",
            "decided by",
            "recorded by",
            "authority",
            "reason",
            "evidence",
            "note",
        ):
            table.add_column(column, overflow="fold")
        for line in lines:
            table.add_row(
                str(line.version),
                line.recorded_at[:16],
                line.effective,
                line.step,
                line.actor,
                line.recorded_by,
                line.authority,
                line.reason,
                ", ".join(line.evidence),
                line.note,
            )
        console.print(table)


@audit_app.command("as-of")
def as_of(
    ctx: typer.Context,
    initiative_id: Annotated[str, typer.Argument(metavar="INITIATIVE_ID")],
    at: Annotated[str | None, typer.Option(metavar="YYYY-MM-DD", help="the day")] = None,
    by: Annotated[
        str,
        typer.Option(
            help="recorded: as the record stood that day; effective: as decisions had taken "
            "effect by that day"
        ),
    ] = "effective",
    version: Annotated[int | None, typer.Option(min=1, help="exactly this version")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The initiative exactly as it stood on a date (or at a version)."""
    from adapters.audit.records import as_of as load

    if (at is None) == (version is None):
        refuse("give --at DATE or --version N", "invalid", as_json)
    if by not in ("recorded", "effective"):
        refuse("--by is recorded or effective", "invalid", as_json)
    current = session(ctx)
    with refusals(as_json):
        state = load(
            current.engine,
            current.fresh_reads(),
            initiative_id,
            at=_date(at, "--at") if at else None,
            by=by,  # type: ignore[arg-type]
            version=version,
        )
    if state is None:
        refuse(
            f"initiative '{initiative_id}' did not exist yet on {at} ({by})", "not_found", as_json
        )
    if as_json:
        emit_json(state)
        return
    console.print(
        f"{state.id} at version {state.version}: stage {state.stage} since "
        f"{state.stage_since}, {state.status}"
        f"{': ' + state.status_reason if state.status_reason else ''}",
        highlight=False,
    )
    console.print_json(state.model_dump_json())
    from adapters.audit.records import history

    table = Table(title=f"The decisions behind version {state.version}")
    for column in ("v", "effective", "step", "decided by", "recorded by", "authority"):
        table.add_column(column, overflow="fold")
    for line in history(current.engine, initiative_id):
        if line.version <= state.version:
            table.add_row(
                str(line.version),
                line.effective,
                line.step,
                line.actor,
                line.recorded_by,
                line.authority,
            )
    console.print(table)


def _verify_with_progress(current: Any) -> tuple[Any, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from adapters.audit.chain import Chained
    from adapters.audit.verify import verify_store

    recorder = current.engine.recorder
    if not isinstance(recorder, Chained):
        refuse("this store is not hash-chained", "storage")
    total = current.engine.recorder.max_notification_id() or 0
    with Progress(
        TextColumn("verifying"),
        BarColumn(),
        MofNCompleteColumn(),
        console=errors,
        disable=not sys.stderr.isatty(),
        transient=True,
    ) as bar:
        task = bar.add_task("verify", total=total)
        return verify_store(
            recorder,
            current.settings.home,
            on_progress=lambda n: bar.advance(task, n),
            mapper=current.engine.mapper,
            settings=current.settings,
        )


@audit_app.command("verify")
def verify(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Check the hash chain over every stored event, and the sealed chain heads, and say
    what the verdict covers: intact (everything as sealed), intact-with-unsealed-tail (the
    events recorded since the latest seal are chained but not yet sealed: each aggregate is
    named), unsealed (no seal to check against: exit 0 too, but nothing proves the record
    was not rewritten), or altered (exit 1: each broken place named, aggregate, version and
    what). Seals the heads when nothing is altered (if this process holds the signing key)."""
    from adapters.audit.sealing import seal_verified
    from adapters.audit.verify import label

    current = session(ctx)
    report, heads = _verify_with_progress(current)
    sealed_now = seal_verified(current.settings, report, heads)
    if as_json:
        emit_json({**report.as_dict(), "sealed_now": sealed_now is not None})
    else:
        console.print(
            f"checked {report.events} events of {report.aggregates} aggregates "
            f"against {report.sealed_heads} sealed heads",
            highlight=False,
        )
        for p in report.problems:
            where = (
                p.name or "the seals"
                if p.aggregate == "*"
                else f"{label(p.aggregate, p.name)} version {p.version}"
            )
            errors.print(f"{p.kind.upper()}: {where}: {p.detail}", highlight=False, markup=False)
        console.print(report.summary(), highlight=False, markup=False)
        for u in report.unsealed:
            what = "all new since the seal" if u.new else "recorded since the seal"
            console.print(
                f"  not yet sealed: {label(u.aggregate, u.name)} versions {u.from_version} "
                f"to {u.to_version} ({u.events} events, {what})",
                highlight=False,
                markup=False,
            )
        if sealed_now is not None:
            console.print(
                "sealed the chain heads now: later verifies hold the record to this seal",
                highlight=False,
            )
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("public-key")
def public_key(
    ctx: typer.Context,
    note: Annotated[
        bool,
        typer.Option(
            "--note",
            help="print the log's verifier key for a witness instead (origin+id+key): give it "
            "to `kringloop witness serve --log`",
        ),
    ] = False,
) -> None:
    """Print the public half of the signing key (for check-export and checking seals)."""
    from adapters.audit.keys import public_key_text, public_text, signing_key

    settings = session(ctx).settings
    if note:
        from adapters.audit.anchoring import log_vkey

        sys.stdout.write(log_vkey(settings) + "\n")
        return
    known = public_key_text(settings.home)
    sys.stdout.write((known or public_text(signing_key(settings.home))) + "\n")


@audit_app.command("anchor")
def anchor_now(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Anchor the seals outside the data folder now (it also happens after seals, at most
    every KRINGLOOP_ANCHOR_INTERVAL seconds): seal what moved, sign the checkpoint of every
    seal so far, have it time-stamped by KRINGLOOP_TSA_URL and co-signed by the witness at
    KRINGLOOP_WITNESS_URL, and keep the anchor in audit/anchors (and KRINGLOOP_ANCHOR_COPY).
    Exit 1 if the authority or the witness cannot be reached, or the witness co-signed a
    longer record than this store has (it was rolled back)."""
    from adapters.audit.anchoring import AnchorRefused, anchor, configured
    from adapters.audit.sealing import CannotSeal, seal_tail

    current = session(ctx)
    settings = current.settings
    if not configured(settings):
        refuse(
            "nothing to anchor with: set KRINGLOOP_TSA_URL (and KRINGLOOP_TSA_CERTIFICATES) "
            "or KRINGLOOP_WITNESS_URL (and KRINGLOOP_WITNESS_KEY)",
            "invalid",
            as_json,
        )
    try:
        seal_tail(current.engine.recorder, current.engine.mapper, settings.home)
        written = anchor(settings)
    except (AnchorRefused, CannotSeal) as error:
        refuse(f"{error}: run `kringloop audit verify`", "tampered", as_json)
    except Exception as error:  # the authority or the witness: say which, and why
        refuse(f"not anchored: {error}", "unavailable", as_json)
    if as_json:
        emit_json({"anchored": written is not None, "anchor": str(written) if written else None})
    elif written is None:
        console.print("nothing sealed since the latest anchor: nothing to anchor", highlight=False)
    else:
        console.print(f"anchored the seals: {written}", highlight=False)


@audit_app.command("export")
def export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="the bundle to write", dir_okay=False)],
    initiative_id: Annotated[str | None, typer.Argument(metavar="[INITIATIVE_ID]")] = None,
    everything: Annotated[bool, typer.Option("--all", help="every event in the store")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Write a signed, self-contained bundle: the events, their chain, an Ed25519 signature."""
    from adapters.audit.export import export_record
    from adapters.audit.sealing import seal_verified

    if (initiative_id is None) == (not everything):
        refuse("give an INITIATIVE_ID or --all", "invalid", as_json)
    current = session(ctx)
    report, heads = _verify_with_progress(current)
    if not report.ok:
        refuse(
            f"the store fails verification ({len(report.problems)} problems): run "
            "`kringloop audit verify`",
            "tampered",
            as_json,
        )
    seal_verified(current.settings, report, heads)
    with refusals(as_json):
        scope = export_record(current.engine, current.settings.home, out, initiative_id)
    count = sum(1 for _ in out.open("rb")) - 2  # the header and the signature
    if as_json:
        emit_json({"out": str(out), "events": count, "scope": scope})
    else:
        console.print(f"exported {count} events ({scope}) to {out}", highlight=False)


@audit_app.command("check-export")
def check_export(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, metavar="FILE")],
    public_key: Annotated[
        str, typer.Option("--public-key", help="as `audit public-key` printed it")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Check an export offline: its signature and every event's chain. Needs no database."""
    from adapters.audit.export import check_export as check

    try:
        result = check(path, public_key)
    except ValueError as error:
        refuse(str(error), "invalid", as_json)
    if as_json:
        emit_json(
            {
                "ok": result.ok,
                "events": result.events,
                "aggregates": result.aggregates,
                "problems": result.problems,
            }
        )
    else:
        for problem in result.problems:
            errors.print(problem, highlight=False, markup=False)
        console.print(
            f"{'valid' if result.ok else 'INVALID'}: {result.events} events of "
            f"{result.aggregates} aggregates",
            highlight=False,
        )
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("what-if")
def what_if(
    ctx: typer.Context,
    initiative_id: Annotated[str, typer.Argument(metavar="INITIATIVE_ID")],
    from_version: Annotated[
        int, typer.Option("--from-version", min=2, help="the decision to replace or remove")
    ],
    replace_with: Annotated[
        str | None,
        typer.Option("--replace-with", metavar="JSON", help='a command: {"command": NAME, ...}'),
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="remove that decision")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Fork the history in a sandbox from a decision, replace or remove it, decide the later
    ones again through today's rules, and show what would differ. Nothing live changes."""
    from adapters.audit.records import what_if as fork
    from adapters.commanding import read_json
    from domain.commands.catalogue import parse_command

    if (replace_with is None) == (not remove):
        refuse("give --replace-with JSON or --remove", "invalid", as_json)
    with refusals(as_json):
        replacement = None
        if replace_with is not None:
            payload = read_json(replace_with, "--replace-with: not JSON")
            if not isinstance(payload, dict):
                raise InvalidCommandError("--replace-with: not a JSON object")
            payload.setdefault("initiative_id", initiative_id)
            replacement = parse_command(payload)
        report = fork(session(ctx).engine, initiative_id, from_version, replacement)
    if as_json:
        emit_json(asdict(report))
        return
    table = Table(title=f"What if: {initiative_id} from version {from_version}")
    for column in ("v", "decision", "outcome"):
        table.add_column(column, overflow="fold")
    for r in report.replayed:
        table.add_row(str(r.version), r.step, r.outcome)
    console.print(table)
    for name, change in report.state_changes.items():
        console.print(f"{name}: {change['live']} -> {change['what_if']}", highlight=False)
    for key, change in report.progress_changes.items():
        console.print(f"target {key}: {change['live']} -> {change['what_if']}", highlight=False)
    if not report.state_changes and not report.progress_changes:
        console.print("nothing would differ", highlight=False)
