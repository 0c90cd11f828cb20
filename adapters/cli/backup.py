"""`kringloop backup` and `kringloop restore`: the whole record in one file, and back."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from adapters.cli.context import console, emit_json, errors, refusals, session

JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]


@contextmanager
def _bar(label: str, show: bool) -> Iterator[tuple[Callable[[int], None], Callable[[int], None]]]:
    """A progress bar on stderr (on a terminal, without --json): set its total, advance it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        console=errors,
        disable=not (show and sys.stderr.isatty()),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)
        yield (lambda n: bar.update(task, total=n)), (lambda n: bar.advance(task, n))


def backup(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(
            metavar="PATH",
            help="the file to write, e.g. kringloop-2025-01-31.backup",
            dir_okay=False,
        ),
    ],
    force: Annotated[bool, typer.Option("--force", help="replace PATH if it exists")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Copy the whole record into one file: every event as stored, the audit hash chain, the
    API users, and the audit folder (signing key and sealed heads).

    The copy is consistent while brokers keep working (SQLite: the online backup API;
    PostgreSQL: one snapshot transaction). The file is JSON lines with a checksum, the same
    for both stores: a backup of SQLite restores into PostgreSQL and back. It holds the
    audit signing key, so it is written readable by its owner only: keep it as safe as the
    data folder. Read models are not in it: `kringloop restore` rebuilds them.

    \b
    Examples:
      kringloop backup /backups/kringloop-$(date +%F).backup
      KRINGLOOP_DATABASE_URL=postgresql://... kringloop backup pg.backup --json
    """
    from adapters.backup import write_backup

    current = session(ctx)
    with refusals(as_json), _bar("backing up", not as_json) as (total, advance):
        counts = write_backup(current.settings, path, force, total, advance)
    if as_json:
        emit_json({"backup": str(path), **asdict(counts)})
        return
    console.print(
        f"backed up {counts.events} events, {counts.links} chain links, {counts.users} users "
        f"and {counts.files} audit files to {path}",
        highlight=False,
    )
    errors.print("it holds the audit signing key: keep it safe", highlight=False)


def restore(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(
            metavar="PATH",
            help="a file written by `kringloop backup`",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="restore even though the target holds events, users or audit files: they "
            "are replaced (the old audit folder is kept as audit.before-restore-TIME)",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Restore a backup into this data folder (or the database of KRINGLOOP_DATABASE_URL),
    rebuild the read models from the restored events, and verify the audit chain.

    The file is checked whole first (format, checksum, counts): a damaged or cut-off backup
    restores nothing. The target must be empty, unless --force. Events and chain links go
    in one transaction, then the users and the audit folder; if a restore stops part-way,
    run it again with --force. Exits 1 if the restored record does not verify: a backup
    edited with its checksum redone still shows every altered event to the audit chain.

    \b
    Examples:
      KRINGLOOP_HOME=/srv/kringloop-new kringloop restore /backups/kringloop-2025-01-31.backup
      kringloop restore yesterday.backup --force    # replace what this store holds
    """
    from adapters.restore import restore_backup

    current = session(ctx)
    current.close()  # the restore opens its own connections; nothing cached from before
    with refusals(as_json), _bar("restoring", not as_json) as (total, advance):
        restored = restore_backup(current.settings, path, force, total, advance)
    ok = bool(restored.verify.get("ok"))
    if as_json:
        emit_json(
            {
                "restored": str(path),
                **asdict(restored.counts),
                "read_models_rebuilt": restored.read_models_rebuilt,
                "verify": restored.verify,
            }
        )
    else:
        counts = restored.counts
        console.print(
            f"restored {counts.events} events, {counts.links} chain links, {counts.users} "
            f"users and {counts.files} audit files; read models rebuilt from "
            f"{restored.read_models_rebuilt} events",
            highlight=False,
        )
        console.print(
            "audit chain verified: the record is intact"
            if ok
            else f"audit verify: {restored.verify['summary']} (run `kringloop audit verify` "
            "for the list)",
            highlight=False,
        )
    if not ok:
        raise typer.Exit(1)


def register_backup(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
