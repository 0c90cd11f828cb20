"""Read models built on the side, in a throw-away SQLite file: the programme as it stood on
a past date, or as it would stand after a what-if. The live read models are not touched."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from domain.engine import Engine
from projections.runner import apply_events
from projections.store import LIVE_TABLES, ReadStore

BATCH = 5000


@contextmanager
def sandbox_store() -> Iterator[ReadStore]:
    with tempfile.TemporaryDirectory(prefix="kringloop-sandbox-") as folder:
        store = ReadStore(f"sqlite:///{Path(folder) / 'read.sqlite'}")
        store.create()
        try:
            yield store
        finally:
            store.close()


def project_all(
    engine: Engine, store: ReadStore, keep: Callable[[Any], bool] = lambda event: True
) -> int:
    """Project every event of ``engine`` that ``keep`` accepts into ``store``."""
    position, projected = 0, 0
    while notifications := engine.recorder.select_notifications(
        start=position, limit=BATCH, inclusive_of_start=False
    ):
        position = notifications[-1].id
        pairs = [(n.id, engine.mapper.to_domain_event(n)) for n in notifications]
        kept = [(i, e) for i, e in pairs if keep(e)]
        if kept:
            with store.engine.begin() as conn:
                apply_events(conn, LIVE_TABLES, kept)
            projected += len(kept)
    return projected
