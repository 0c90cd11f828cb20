"""`kringloop witness`: run a witness for audit records, or print its public key.

A witness co-signs a log's checkpoint only if the log grew from the last checkpoint it
co-signed (C2SP tlog-witness). Run it apart from the installations it watches (another
machine, another operator): a data folder restored from an older backup can then no longer
get a cosignature, and `kringloop audit verify` learns from it how far the record had grown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

witness_app = typer.Typer(
    help="Witness: co-sign audit checkpoints only while each log grows; a rollback is refused. "
    "Start with `kringloop witness serve`, give auditors `kringloop witness key`.",
    no_args_is_help=True,
)

StateOption = Annotated[
    Path,
    typer.Option(
        "--state",
        file_okay=False,
        envvar="KRINGLOOP_WITNESS_STATE",
        help="the witness's own folder: its private key, its name and the latest checkpoint "
        "of each log; created on first start, readable by the witness only. Keep it (and "
        "its backups) away from the installations it watches",
    ),
]
NameOption = Annotated[
    str,
    typer.Option(
        "--name",
        help="the name the witness signs as, e.g. witness.example.org; part of its public "
        "key, so it is fixed at first start",
    ),
]


@witness_app.command("serve")
def serve(
    state: StateOption,
    name: NameOption,
    logs: Annotated[
        list[str],
        typer.Option(
            "--log",
            metavar="VKEY",
            help="a log to witness, as its note verifier key NAME+HASH+BASE64: the "
            "installation's audit key under its log name, as `kringloop audit public-key "
            "--note` prints it there. That name (KRINGLOOP_LOG_ORIGIN) is the origin, the "
            "first line of the log's checkpoints. Repeat for each log",
        ),
    ],
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="port; 0 for any free one")] = 8099,
) -> None:
    """Serve POST /add-checkpoint (C2SP tlog-witness) and GET /checkpoint?origin=ORIGIN
    (the latest checkpoint co-signed for a log) until stopped. Installations send their
    checkpoints here with KRINGLOOP_WITNESS_URL=http://HOST:PORT; it co-signs each one
    that extends the last it co-signed for that log, and refuses a smaller tree or another
    tree of the same size."""
    from adapters.audit.notes import parse_vkey
    from adapters.audit.witness import make_server, witness_vkey
    from adapters.cli.context import console, refuse
    from adapters.logs import configure_logging

    known: dict[str, str] = {}
    for vkey in logs:
        try:
            origin = parse_vkey(vkey).name
        except ValueError as error:
            refuse(f"--log {vkey!r}: not a log's public key ({error})", "invalid")
        if origin in known and known[origin] != vkey:
            refuse(f"--log: two keys for the log {origin!r}; give one", "invalid")
        known[origin] = vkey
    configure_logging("info")
    try:
        server = make_server(state, name, known, host, port)
    except (ValueError, OSError) as error:
        refuse(f"the witness cannot start: {error}")
    console.print(f"witness {name} listening on {server.url}", highlight=False)
    console.print(f"its key (KRINGLOOP_WITNESS_KEY): {witness_vkey(state, name)}", highlight=False)
    console.print("witnessing: " + ", ".join(sorted(known)), highlight=False)
    console.file.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@witness_app.command("key")
def key(state: StateOption, name: NameOption) -> None:
    """Print the witness's public key (a note verifier key) for auditors to set as
    KRINGLOOP_WITNESS_KEY: with it `kringloop audit verify` checks the witness's
    cosignatures. Creates the key if the witness never started."""
    from adapters.audit.witness import witness_vkey
    from adapters.cli.context import console, refuse

    try:
        vkey = witness_vkey(state, name)
    except (ValueError, OSError) as error:
        refuse(f"no witness key: {error}")
    console.print(vkey, highlight=False)


if __name__ == "__main__":  # `python -m adapters.cli.witness`, before it is registered
    witness_app()
