"""Read models built on the side, in a throw-away SQLite file: the programme as it stood on
a past date, or as it would stand after a what-if. The live read models are not touched."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from domain.engine import Engine
from projections.checkpoints import Checkpoints
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


class InEffect:
    """The read models as the decisions had taken effect by a date, one date after another.

    With the live read models (``reads``) as the index by effective date, each date is
    reached from a month-end checkpoint (``projections.checkpoints``), kept in ``folder``
    (by default beside an SQLite read store; for one use only, in a temporary folder,
    otherwise); without them, every event is decoded and those in effect are projected."""

    def __init__(self, engine: Engine, reads: ReadStore | None, folder: Path | None) -> None:
        self.engine = engine
        self.reads = reads
        self.folder = folder if folder is not None else checkpoints_folder(reads)
        self._temporary: tempfile.TemporaryDirectory[str] | None = None
        self._checkpoints: Checkpoints | None = None

    def __enter__(self) -> InEffect:
        if self.reads is not None and self.folder is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="kringloop-checkpoints-")
            self.folder = Path(self._temporary.name)
        return self

    def __exit__(self, *_: object) -> None:
        if self._temporary is not None:
            self._temporary.cleanup()

    @contextmanager
    def by(self, at: date) -> Iterator[ReadStore]:
        if self.reads is None or self.folder is None:
            with sandbox_store() as store:
                project_all(self.engine, store, keep=lambda e: e.decision.effective <= at)
                yield store
            return
        if self._checkpoints is None:
            self._checkpoints = Checkpoints(self.engine, self.reads, self.folder)
        with self._checkpoints.as_of(at) as store:
            yield store


def checkpoints_folder(reads: ReadStore | None) -> Path | None:
    """Where an SQLite read store's checkpoints are kept: ``checkpoints`` beside its file."""
    if reads is None or not reads.url.startswith("sqlite:///"):
        return None
    database = reads.url.removeprefix("sqlite:///")
    return Path(database).parent / "checkpoints" if database not in ("", ":memory:") else None
