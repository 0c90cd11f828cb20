"""Read commands, served from the read models: lists, the pipeline, the precondition
register, programme progress, the decision log, and the projections themselves."""

from __future__ import annotations

import sys
from datetime import date, datetime
from typing import Annotated, Any

import typer

from adapters.cli.context import console, emit_json, errors, parse_day, refuse, session
from adapters.cli.exporting import (
    DelimiterOption,
    FormatOption,
    OutOption,
    export_asked,
    write_export,
)
from adapters.cli.reading import fresh_rows
from adapters.cli.words import _, term
from domain.values import PROGRAMME_TZ, Stage, Status

# The rooms below (queries, tables, the engine) are imported by the command that runs:
# `kringloop --help` lists every command without them.

JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]


def today_in_programme_tz() -> date:
    """Today in the programme's time zone (as domain.engine's clock, without the engine)."""
    return datetime.now(tz=PROGRAMME_TZ).date()


def _filter(value: str | None) -> str | None:
    """A free-text filter option: at most `queries.MAX_FILTER` characters (usage error)."""
    from projections import queries

    if value is not None and len(value) > queries.MAX_FILTER:
        raise typer.BadParameter(f"at most {queries.MAX_FILTER} characters")
    return value


def filter_option(help: str) -> Any:
    """An option for a free-text filter, refused above the limit (typer.Option's type)."""
    return typer.Option(help=help, callback=_filter)


projections_app = typer.Typer(
    help="The read models: status, catch-up, follow, rebuild.", no_args_is_help=True
)


def initiative_list(
    ctx: typer.Context,
    stage: Annotated[Stage | None, typer.Option(help="only at this stage")] = None,
    stream: Annotated[str | None, filter_option(help="a stream, with its sub-streams")] = None,
    sub_stream: Annotated[str | None, filter_option(help="exactly this sub-stream")] = None,
    broker: Annotated[str | None, filter_option(help="initiatives this broker decided on")] = None,
    status: Annotated[Status | None, typer.Option(help="active, stalled or abandoned")] = None,
    stalled_days: Annotated[
        int | None, typer.Option(min=0, help="stalled for more than this many days")
    ] = None,
    flagged: Annotated[
        str | None,
        typer.Option(help="ready (to scale, by the phase-3 check), at_risk, or escalated"),
    ] = None,
    sort: Annotated[
        str, typer.Option(help="id, stage, stage_since, last_effective or stream")
    ] = "id",
    as_json: JsonFlag = False,
) -> None:
    """List initiatives, filtered and sorted."""
    from rich.table import Table

    from projections import queries

    if flagged not in (None, "ready", "at_risk", "escalated"):
        refuse(f"--flagged {flagged!r}: use ready, at_risk or escalated", as_json=as_json)
    if sort not in ("id", "stage", "stage_since", "last_effective", "stream"):
        refuse(
            f"cannot sort by {sort!r}: use id, stage, stage_since, last_effective or stream",
            as_json=as_json,
        )
    found = queries.list_initiatives(
        fresh_rows(ctx),
        today_in_programme_tz(),
        stage=stage.value if stage else None,
        stream=stream,
        sub_stream=sub_stream,
        broker=broker,
        status=status.value if status else None,
        stalled_days=stalled_days,
        flagged=flagged,  # type: ignore[arg-type]
        sort=sort,  # type: ignore[arg-type]
    )
    if as_json:
        emit_json(found)
        return
    table = Table(title=_("{n} initiatives").format(n=len(found)))
    columns = (
        _("initiative"),
        _("stream"),
        _("stage"),
        _("days"),
        _("status"),
        _("open prec."),
        _("broker"),
        _("flags"),
    )
    for number, column in enumerate(columns):
        table.add_column(column, no_wrap=number == 0)
    for s in found:
        flags = [
            name
            for present, name in (
                (s.ready_to_scale, _("ready to scale")),
                (s.at_risk, _("at risk")),
                (s.escalations, _("{n} escalations").format(n=s.escalations)),
            )
            if present
        ]
        table.add_row(
            s.id,
            s.stream,
            term("stage", s.stage),
            str(s.days_in_stage),
            term("status", s.status),
            str(s.open_preconditions),
            s.broker,
            ", ".join(flags),
        )
    console.print(table)


def initiative_show(
    ctx: typer.Context,
    initiative_id: Annotated[str, typer.Argument(help="the initiative's id")],
    as_json: JsonFlag = False,
) -> None:
    """Show an initiative's state, preconditions, impact, every decision taken on it, and
    its next steps: what can be done now, and why not the rest."""
    from adapters.cli.show import print_initiative_detail
    from domain.commands.next_steps import next_steps
    from projections import queries

    detail = queries.initiative_detail(fresh_rows(ctx), initiative_id, today_in_programme_tz())
    if detail is None:
        refuse(f"no initiative '{initiative_id}'", "not_found", as_json)
    detail.next_steps = next_steps(session(ctx).engine.initiative(initiative_id))
    if as_json:
        emit_json(detail)
    else:
        print_initiative_detail(detail)


def pipeline(
    ctx: typer.Context,
    programme: Annotated[str | None, typer.Option(help="only this programme")] = None,
    as_json: JsonFlag = False,
    export_format: FormatOption = None,
    out: OutOption = None,
    csv_delimiter: DelimiterOption = None,
) -> None:
    """The programme's streams by stage, sub-streams folded into their stream: how many
    active initiatives stand where, and which; stalled and abandoned ones apart."""
    from rich.table import Table

    from projections import queries

    export = export_asked(ctx, export_format, out, csv_delimiter, as_json)
    found = queries.pipeline(fresh_rows(ctx), programme)
    if export:
        from adapters import tabular

        write_export(export, tabular.pipeline(programme, found))
        return
    if as_json:
        emit_json(found)
        return
    stages = [Stage(s) for s in found.stages]
    table = Table(title=_("Pipeline: active initiatives per stream and stage"))
    table.add_column(_("stream"), no_wrap=True)
    for stage in stages:
        table.add_column(term("stage", stage).replace(" ", "\n"), justify="right")
    table.add_column(term("status", "stalled"), justify="right")
    table.add_column(term("status", "abandoned"), justify="right")
    for row in found.rows:
        table.add_row(
            row.stream,
            *[str(row.counts.get(s.value) or "") for s in stages],
            str(len(row.stalled) or ""),
            str(len(row.abandoned) or ""),
        )
    table.add_row(
        _("total"),
        *[str(found.totals[s.value] or "") for s in stages],
        str(found.stalled or ""),
        str(found.abandoned or ""),
    )
    console.print(table)
    for row in found.rows:
        listed = [(term("stage", s), ids) for s, ids in row.initiatives.items()]
        listed += [(term("status", "stalled"), row.stalled)]
        listed += [(term("status", "abandoned"), row.abandoned)]
        for label, ids in listed:
            if ids:
                console.print(f"{row.stream} · {label}: {', '.join(ids)}", highlight=False)


def preconditions(
    ctx: typer.Context,
    initiative: Annotated[str | None, filter_option(help="only this initiative")] = None,
    responsible: Annotated[str | None, filter_option(help="only this owner party")] = None,
    status: Annotated[
        str | None, filter_option(help="open, fulfilled, waived, failed or dropped")
    ] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="open and past due")] = False,
    due_before: Annotated[
        str | None, typer.Option(metavar="YYYY-MM-DD", help="due before this date")
    ] = None,
    as_json: JsonFlag = False,
    export_format: FormatOption = None,
    out: OutOption = None,
    csv_delimiter: DelimiterOption = None,
) -> None:
    """The register of every precondition: open, overdue, fulfilled (with evidence), waived,
    failed."""
    from rich.table import Table

    from adapters import tabular
    from projections import queries

    export = export_asked(ctx, export_format, out, csv_delimiter, as_json)
    found = queries.register(
        fresh_rows(ctx),
        today_in_programme_tz(),
        initiative_id=initiative,
        responsible=responsible,
        status=status,
        overdue=overdue,
        due_before=_date(due_before, "--due-before", as_json),
    )
    if export:
        write_export(export, tabular.precondition_register(found))
        return
    if as_json:
        emit_json(found)
        return
    table = Table(title=f"{len(found)} preconditions")
    for column in (
        "initiative",
        "precondition",
        "kind",
        "responsible",
        "due",
        "status",
        "evidence",
    ):
        table.add_column(column)
    for p in found:
        state = "OVERDUE" if p.overdue else p.status
        table.add_row(
            p.initiative_id,
            p.precondition,
            p.kind.replace("_", " "),
            p.responsible,
            str(p.due or ""),
            state,
            ", ".join(p.evidence),
        )
    console.print(table)


def progress(
    ctx: typer.Context,
    programme_id: Annotated[str, typer.Argument(help="the programme's id")],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="YYYY-MM-DD",
            help="as the decisions had taken effect by this day (built on the side)",
        ),
    ] = None,
    as_json: JsonFlag = False,
    export_format: FormatOption = None,
    out: OutOption = None,
    csv_delimiter: DelimiterOption = None,
) -> None:
    """Every target: baseline, current value, target, share reached, and what feeds it."""
    from rich.table import Table

    from adapters import tabular
    from projections.figures import DEMONSTRATION_NOTE, is_demonstration, share_text
    from projections.progress import programme_progress

    export = export_asked(ctx, export_format, out, csv_delimiter, as_json)
    day = _date(as_of, "--as-of", as_json)
    if day is not None:
        from adapters.audit.records import progress_as_of

        kringloop = session(ctx)  # from the month-end checkpoints kept in the data folder
        found = progress_as_of(
            kringloop.engine,
            programme_id,
            day,
            reads=kringloop.fresh_reads(),
            folder=kringloop.settings.home / "checkpoints",
        )
    else:
        found = programme_progress(session(ctx).fresh_reads(), programme_id)
    if export:
        write_export(export, tabular.programme_progress(programme_id, found))
        return
    if as_json:
        emit_json(found)
        return
    table = Table(title=f"Programme {programme_id}: targets")
    for column in (
        "target",
        "unit",
        "baseline",
        "current",
        "target",
        "reached",
        "where it comes from",
        "contributors",
    ):
        table.add_column(column)
    for t in found:
        current = "not measured" if t.current is None else f"{t.current:,g}"
        table.add_row(
            t.description or t.key,
            t.unit,
            f"{t.baseline:,g}",
            current,
            f"{t.target:,g}",
            share_text(t.share_reached_pct),
            t.measured_by,
            ", ".join(c.initiative_id for c in t.contributors),
        )
    console.print(table)
    if is_demonstration(session(ctx).read_store, programme_id):
        console.print(DEMONSTRATION_NOTE, highlight=False)


def decisions(
    ctx: typer.Context,
    actor: Annotated[str | None, filter_option(help="who decided")] = None,
    step: Annotated[
        str | None, filter_option(help="the step, e.g. 'consortium formed' or ConsortiumFormed")
    ] = None,
    subject: Annotated[str | None, filter_option(help="an initiative or programme id")] = None,
    since: Annotated[
        str | None, typer.Option(metavar="YYYY-MM-DD", help="effective on or after")
    ] = None,
    until: Annotated[
        str | None, typer.Option(metavar="YYYY-MM-DD", help="effective on or before")
    ] = None,
    text: Annotated[str | None, filter_option(help="words in the reason")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 1000,
    as_json: JsonFlag = False,
    export_format: FormatOption = None,
    out: OutOption = None,
    csv_delimiter: DelimiterOption = None,
) -> None:
    """The decision log: who decided what, when and why, searchable."""
    from rich.table import Table

    from adapters import tabular
    from projections import queries

    export = export_asked(ctx, export_format, out, csv_delimiter, as_json)
    found = queries.decision_log(
        session(ctx).fresh_reads(),
        actor=actor,
        step=step,
        subject=subject,
        since=_date(since, "--since", as_json),
        until=_date(until, "--until", as_json),
        text=text,
        limit=limit,
    )
    if export:
        write_export(export, tabular.decision_log(found))
        return
    if as_json:
        emit_json(found)
        return
    table = Table(title=f"{len(found)} decisions")
    for column in ("effective", "subject", "step", "actor", "reason"):
        table.add_column(column)
    for d in found:
        table.add_row(str(d.effective), d.subject_id, d.step, d.actor, d.reason)
    console.print(table)


def _date(value: str | None, option: str, as_json: bool) -> date | None:
    return None if value is None else parse_day(value, option, as_json)


@projections_app.command("status")
def projections_status(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Position and lag of the read models behind the event store."""
    status = session(ctx).runner.status()
    data = {
        "projection": status.name,
        "position": status.position,
        "head": status.head,
        "lag": status.lag,
    }
    if as_json:
        emit_json([data])
    else:
        console.print(
            f"{status.name}: at {status.position} of {status.head} (lag {status.lag})",
            highlight=False,
        )


def _with_progress(total: int, work: str, job: typer.Context, rebuild: bool) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    runner = session(job).runner
    with Progress(
        TextColumn(work),
        BarColumn(),
        MofNCompleteColumn(),
        console=errors,
        disable=not sys.stderr.isatty(),
        transient=True,
    ) as bar:
        task = bar.add_task(work, total=total)
        advance = lambda n: bar.advance(task, n)  # noqa: E731
        return (
            runner.rebuild(on_progress=advance) if rebuild else runner.catch_up(on_progress=advance)
        )


@projections_app.command("catch-up")
def projections_catch_up(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Apply every event recorded since the read models' position."""
    lag = session(ctx).runner.status().lag
    applied = _with_progress(lag, "catching up", ctx, rebuild=False)
    from adapters.audit.sealing import auto_seal

    auto_seal(session(ctx).engine, session(ctx).settings)
    emit_json({"applied": applied}) if as_json else console.print(f"applied {applied} events")


@projections_app.command("rebuild")
def projections_rebuild(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Rebuild every read model from the first event into fresh tables, then swap them in
    (readers keep the old tables until the new ones are complete)."""
    head = session(ctx).runner.status().head
    applied = _with_progress(head, "rebuilding", ctx, rebuild=True)
    emit_json({"applied": applied}) if as_json else console.print(f"rebuilt from {applied} events")


@projections_app.command("follow")
def projections_follow(
    ctx: typer.Context,
    poll: Annotated[
        float,
        typer.Option(
            "--poll",
            min=0.01,
            max=60.0,
            metavar="SECONDS",
            help="on the SQLite store: seconds between two looks for new events",
        ),
    ] = 0.1,
    as_json: JsonFlag = False,
) -> None:
    """Keep the read models up to date until stopped: catch up, then apply each new event
    as it is recorded.

    On PostgreSQL (--database-url) it LISTENs for the event store's NOTIFY and applies an
    event moments after its transaction commits; on the SQLite file it looks every --poll
    seconds. Ctrl-C or SIGTERM stops it between two batches (each batch is one
    transaction), so the read models are never left half-applied. Several may run at once,
    on one host or many: each batch is applied by exactly one of them. If the store goes
    away it stops with exit status 1: run it under something that restarts it (systemd,
    a container's restart policy); it resumes from the saved position.

    \b
    Examples:
      kringloop --database-url postgresql://kringloop@db:5432/kringloop projections follow
      kringloop --home /srv/kringloop projections follow --poll 0.05
      kringloop --log-level info projections follow   # a log line per applied batch
    """
    import signal

    from adapters.audit.sealing import Sealer
    from adapters.logs import get_logger
    from projections.following import Follower

    log = get_logger("kringloop.projections")
    runner = session(ctx).runner
    sealer = Sealer(session(ctx).engine, session(ctx).settings)  # heads sealed as they move

    def applied_batch(count: int, position: int) -> None:
        log.info("applied", events=count, position=position)
        sealer()

    follower = Follower(
        runner,
        poll_interval=poll,
        on_batch=applied_batch,
        on_ready=lambda: errors.print(
            f"following {runner.status().name} at position {runner.position()}, "
            + (
                "woken by the store's notifications"
                if follower.mode == "listening"
                else f"looking every {poll:g} s"
            )
            + "; Ctrl-C to stop",
            highlight=False,
        ),
    )
    stopping = (signal.SIGINT, signal.SIGTERM)
    handlers = {s: signal.signal(s, lambda *_: follower.stop()) for s in stopping}
    try:
        applied = follower.run()
    except Exception as error:  # the store went away: say so and exit non-zero
        refuse(f"stopped following: {error}", "storage", as_json)
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    summary = {"applied": applied, "position": runner.position(), "mode": follower.mode}
    if as_json:
        emit_json(summary)
    else:
        console.print(
            f"stopped at position {summary['position']}; applied {applied} events", highlight=False
        )


def register_reads(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    groups["initiative"].command("list")(initiative_list)
    groups["initiative"].command("show")(initiative_show)
    groups["programme"].command("progress")(progress)
    app.command("pipeline")(pipeline)
    app.command("preconditions")(preconditions)
    app.command("decisions")(decisions)
    app.add_typer(projections_app, name="projections")
    from adapters.cli.audit import audit_app

    app.add_typer(audit_app, name="audit")
