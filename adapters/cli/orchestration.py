"""`kringloop serve` and `kringloop flows`: the scheduled and multi-step work, on Prefect."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from adapters.cli.context import console, emit_json, errors, refuse, session

flows_app = typer.Typer(help="Prefect flows: list them, run one now.", no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]


@flows_app.command("list")
def list_flows(as_json: JsonFlag = False) -> None:
    """The flows, their entrypoints and schedules (from prefect.yaml)."""
    from adapters.orchestration import deployment_specs

    specs = deployment_specs()
    if as_json:
        emit_json(
            [
                {
                    "name": s.name,
                    "entrypoint": s.entrypoint,
                    "schedule": s.schedule_text,
                    "parameters": s.parameters,
                    "description": s.description,
                }
                for s in specs
            ]
        )
        return
    table = Table(title="Flows")
    for column in ("name", "schedule", "entrypoint", "description"):
        table.add_column(column)
    for s in specs:
        table.add_row(s.name, s.schedule_text, s.entrypoint, s.description)
    console.print(table)


def _parameters(pairs: list[str]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            refuse(f"--param {pair!r}: write it as name=value", "invalid")
        try:
            parsed[key] = json.loads(raw)
        except (ValueError, RecursionError):  # not JSON (or JSON no parser takes)
            parsed[key] = raw  # a plain word: a string
    return parsed


@flows_app.command("run")
def run(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="the flow, as `flows list` names it")],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="name=value (JSON values, or plain text); repeat for several"),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Run one flow now, in this process, and print its result. It runs on the Prefect
    server of a `kringloop serve` on this data folder when one is running; otherwise Prefect
    starts a temporary server for the run, which may take a while on a busy machine."""
    from adapters.orchestration import run_flow

    try:
        result = run_flow(session(ctx).settings, name, _parameters(param or []), say=_say)
    except KeyError as error:
        refuse(str(error.args[0]), "not_found", as_json)
    if as_json:
        emit_json(result)
    else:
        console.print_json(json.dumps(result, default=str))


def serve(ctx: typer.Context) -> None:
    """Run every deployment of prefect.yaml here, on their schedules, until Ctrl-C: starts a
    real Prefect server on the data folder (or uses PREFECT_API_URL) and stops it on exit.
    Ctrl-C stops it within 30 s whatever its flow runs are doing: runs in progress get 20 s
    to end, then they are stopped, and the server gets 10 s."""
    from adapters.orchestration import serve_all

    serve_all(session(ctx).settings, say=_say)


def _say(text: str) -> None:
    """What Prefect is waiting for, on stderr (stdout stays the result)."""
    errors.print(text, highlight=False, markup=False)


def register_orchestration(app: typer.Typer) -> None:
    app.add_typer(flows_app, name="flows")
    app.command("serve")(serve)
