"""The read models for a read command, as fresh as the event store: on the SQLite file,
read-only through the standard library when they are already caught up (no engine, no
SQLAlchemy); otherwise, and on PostgreSQL, through the read store after a catch-up."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from adapters.cli.context import door

if TYPE_CHECKING:
    from projections.rows import Rows


def fresh_rows(ctx: typer.Context) -> Rows:
    """The read models, caught up with every event recorded so far (as
    ``Stores.fresh_reads``); closed when the command ends."""
    from projections.rows import SQLiteRows, events_head

    current = door(ctx)
    settings = current.settings
    if not settings.database_url:
        lean = SQLiteRows(settings.home / "read.sqlite")
        ctx.call_on_close(lean.close)
        position = lean.position() if lean.path.exists() else None
        head = events_head(settings.events_path) if position is not None else None
        if position is not None and head is not None and position >= head:
            return lean
    return current.kringloop.fresh_reads()
