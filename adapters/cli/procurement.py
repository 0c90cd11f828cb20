"""`kringloop procurement roadmap|categories|communities`: circular procurement, read."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from adapters.cli.context import console, emit_json, session
from adapters.cli.exporting import (
    DelimiterOption,
    Export,
    FormatOption,
    OutOption,
    export_asked,
    write_export,
)

if TYPE_CHECKING:
    from adapters import tabular
    from projections.procurement import YearShare

JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
Programme = Annotated[str, typer.Option("--programme", help="the programme")]


def _tabular() -> Any:
    from adapters import tabular  # the export's sheets: only when exporting

    return tabular


def roadmap(
    ctx: typer.Context,
    programme: Programme = "mra-circular",
    until: Annotated[int | None, typer.Option(help="last year shown [default: last year]")] = None,
    status: Annotated[
        str | None,
        typer.Option(
            help="only organisations whose latest milestone year is: 'milestone met', "
            "'milestone missed', 'no report' (no spend reported that year) or 'no milestone yet'"
        ),
    ] = None,
    as_json: JsonFlag = False,
    export_format: FormatOption = None,
    out: OutOption = None,
    csv_delimiter: DelimiterOption = None,
) -> None:
    """Each organisation's circular share per year, judged at the milestones it committed to
    (10 % in 2022, 50 % in 2025, ...; a last goal without a year is shown as open): the
    roadmap view a regional procurement director needs. Years between milestones show the
    share only, never a verdict."""
    export = export_asked(ctx, export_format, out, csv_delimiter, as_json)
    from projections.procurement import roadmap as lines_of
    from projections.procurement import this_year

    last = until or this_year() - 1
    lines = lines_of(session(ctx).fresh_reads(), programme, last)
    if status:
        lines = [line for line in lines if line.latest_status == status]
    if _exported_or_json(
        export, as_json, lines, lambda: _tabular().procurement_roadmap(programme, lines)
    ):
        return
    years = list(range(min((y.year for line in lines for y in line.years), default=last), last + 1))
    table = Table(
        title=f"Circular procurement roadmap ({len(lines)} organisations): circular share %, "
        "and in milestone years share / milestone"
    )
    table.add_column("organisation", no_wrap=True)
    table.add_column("kind")
    for year in years:
        table.add_column(str(year), justify="right")
    table.add_column("latest")
    for line in lines:
        cells = {y.year: y for y in line.years}
        row = []
        for year in years:
            y = cells.get(year)
            row.append("" if y is None else _cell(y))
        open_goal = "" if line.open_goal is None else f" (then {line.open_goal:g} %, no year)"
        table.add_row(
            line.organisation, line.organisation_kind, *row, line.latest_status + open_goal
        )
    console.print(table)


def _cell(y: YearShare) -> str:
    from projections.procurement import MILESTONE_MET, MILESTONE_MISSED

    share = "-" if y.share is None else f"{y.share:.1f}".removesuffix(".0")
    if y.milestone is None:
        return share
    mark = {MILESTONE_MET: " ✓", MILESTONE_MISSED: " ✗"}.get(y.status, "")
    return f"{share}/{y.milestone:g}{mark}"


def categories(
    ctx: typer.Context,
    programme: Programme = "mra-circular",
    as_json: JsonFlag = False,
    export_format: FormatOption = None,
    out: OutOption = None,
    csv_delimiter: DelimiterOption = None,
) -> None:
    """Spend per purchase category: total, circular, investment."""
    from projections.procurement import category_totals

    export = export_asked(ctx, export_format, out, csv_delimiter, as_json)
    found = category_totals(session(ctx).fresh_reads(), programme)
    if _exported_or_json(
        export, as_json, found, lambda: _tabular().procurement_categories(programme, found)
    ):
        return
    _print_table(
        "Spend per category",
        ("category", "organisations", "total EUR", "circular EUR", "share"),
        (
            (
                c.category,
                str(c.organisations),
                f"{c.total_spend_eur:,.0f}",
                f"{c.circular_spend_eur:,.0f}",
                f"{c.circular_share or 0:.1f} %",
            )
            for c in found
        ),
    )


def communities(
    ctx: typer.Context,
    programme: Programme = "mra-circular",
    as_json: JsonFlag = False,
    export_format: FormatOption = None,
    out: OutOption = None,
    csv_delimiter: DelimiterOption = None,
) -> None:
    """Community activity: members, meetings, attendance, joint trajectories, investment."""
    from projections.procurement import community_activity

    export = export_asked(ctx, export_format, out, csv_delimiter, as_json)
    found = community_activity(session(ctx).fresh_reads(), programme)
    if _exported_or_json(
        export, as_json, found, lambda: _tabular().procurement_communities(programme, found)
    ):
        return
    _print_table(
        "Communities of practice",
        ("community", "members", "meetings", "avg attendance", "trajectories", "invested EUR"),
        (
            (
                c.name,
                str(c.members),
                str(c.meetings),
                f"{c.average_attendance or 0:.1f}",
                str(c.trajectories),
                f"{c.invested_eur:,.0f}",
            )
            for c in found
        ),
    )


def _exported_or_json(
    export: Export | None, as_json: bool, found: Any, sheet: Callable[[], tabular.Table]
) -> bool:
    """Write the export or print the JSON, if either was asked; False leaves the table to
    print."""
    if export:
        write_export(export, sheet())
    elif as_json:
        emit_json(found)
    else:
        return False
    return True


def _print_table(title: str, columns: Iterable[str], rows: Iterable[Sequence[str]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def register_procurement(group: typer.Typer) -> None:
    group.command("roadmap")(roadmap)
    group.command("categories")(categories)
    group.command("communities")(communities)
