"""The app's read models kept current in the background, and the position they have reached.

A follower thread (``projections.following.Follower``: LISTEN/NOTIFY on PostgreSQL, a short
poll on SQLite) applies new events as they are recorded, by this process or any other, and
this object remembers the latest position it saw, in memory. A read then answers from the
read models as they stand: no runner built, no head asked, no catch-up per request. A read
that must see a decision already taken waits for that decision's position only
(``wait_for``): the command endpoints return it in the ``Kringloop-Position`` header.

Without a follower (an app used without its lifespan, as schemathesis does), reads catch up
per request as before (``Stores.fresh_reads``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from adapters.logs import get_logger
from adapters.store import Stores
from projections.following import Follower
from projections.runner import Runner
from projections.store import LIVE_TABLES

if TYPE_CHECKING:
    from sqlalchemy import Table

    from domain.engine import Engine
    from projections.store import ReadStore

log = get_logger("kringloop.api.reads")

WAIT = 5.0
"""Seconds a read (or a command's answer) waits for the follower to reach a position before
it catches up in its own thread instead."""
RETRY = 1.0  # seconds before the follower starts again after a storage error


class ReadSide:
    """The follower of one app, the position it reached, and the waits for a position."""

    def __init__(self, stores: Stores, on_moved: Callable[[int], None] = lambda p: None) -> None:
        self.stores = stores
        self.on_moved = on_moved  # told each new position (the response cache forgets)
        self._position = -1  # not following: unknown
        self._moved = threading.Condition()
        self._follower: Follower | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- following ------------------------------------------------------------------------

    @property
    def following(self) -> bool:
        """Whether a follower keeps the read models current (and ``position`` is known)."""
        return self._thread is not None and self._position >= 0

    @property
    def position(self) -> int:
        """The read models' position as last seen (-1 when not following)."""
        return self._position

    def start(self, timeout: float | None = None) -> None:
        """Start following; return once the first catch-up is done (before serving)."""
        ready = threading.Event()
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._follow, args=(ready,), name="kringloop-read-follower", daemon=True
        )
        self._thread.start()
        ready.wait(timeout)

    def stop(self) -> None:
        self._stopping.set()
        if self._follower is not None:
            self._follower.stop()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._thread = None
        self._follower = None
        self._position = -1

    def _follow(self, ready: threading.Event) -> None:
        while not self._stopping.is_set():
            try:
                follower = Follower(
                    self._runner(), on_batch=lambda n, position: self._seen(position)
                )
                follower.on_ready = ready.set
                self._follower = follower
                if not self._stopping.is_set():
                    follower.run()
            except Exception as error:  # the store went away: say so, then start again
                # serve meanwhile: each read catches up itself (and says 503 if it cannot)
                ready.set()
                log.warning("read follower stopped, starting again", error=str(error))
                self._stopping.wait(RETRY)
        ready.set()

    def _runner(self) -> Runner:
        return Reporting(self.stores.engine, self.stores.read_store, self._seen)

    def _seen(self, position: int) -> None:
        with self._moved:
            if position <= self._position:
                return
            self._position = position
            self._moved.notify_all()
        self.on_moved(position)

    # -- waiting for a position -----------------------------------------------------------

    def wake(self) -> None:
        """A decision was just recorded here: look now (SQLite polls otherwise)."""
        if self._follower is not None:
            self._follower.wake()

    def reached(self, wanted: int, timeout: float = WAIT) -> bool:
        """Wait up to ``timeout`` seconds for the follower to reach ``wanted``."""
        self.wake()
        with self._moved:
            return self._moved.wait_for(lambda: self._position >= wanted, timeout)

    def wait_for(self, wanted: int | None, timeout: float = WAIT) -> int:
        """Return once the read models include the event at ``wanted``, and their position.
        Not following, or the follower too slow: catch up in this thread (exactly once
        still: the runners claim each batch by moving the saved position)."""
        if wanted is None or wanted <= 0:
            return self._position
        if self.following and self.reached(wanted, timeout):
            return self._position
        runner = self.stores.runner
        runner.wait_for(wanted)
        reached = runner.position()
        if self.following:
            self._seen(reached)
        return reached


class Reporting(Runner):
    """A runner that reports every live position it reads, not only the batches it applied
    itself: events another process (or another worker) applied move this app's position
    too."""

    def __init__(self, engine: Engine, store: ReadStore, seen: Callable[[int], None]) -> None:
        super().__init__(engine, store)
        self.seen = seen

    def position(self, tables: dict[str, Table] = LIVE_TABLES) -> int:
        found = super().position(tables)
        if tables is LIVE_TABLES:
            self.seen(found)
        return found
