"""Following the event store: catch up, then apply new events as they are recorded, until
asked to stop.

On PostgreSQL the library's recorder sends ``NOTIFY <events table>`` in every transaction
that appends events (``PostgresApplicationRecorder._notify_channel``; delivered at commit),
so a follower LISTENs on that channel and wakes as soon as an append commits. SQLite has no
such signal: there the follower polls at a short interval. Either way the waking only says
"look now": the runner's catch-up decides what is new from its saved position, and claims
each batch by moving that position, so any number of followers (and one-off catch-ups) can
run side by side and every event is still applied exactly once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from projections.runner import Runner

POLL_INTERVAL = 0.1  # seconds between two looks on SQLite
HEARTBEAT = 0.5  # PostgreSQL: the longest wait for a notification before looking anyway


class Wakeup(Protocol):
    def wait(self) -> None:
        """Return when there may be new events (or when it is time to look anyway)."""


class Polling:
    """Nothing tells us about new events: look every ``interval`` seconds, or at once when
    ``look`` is set (on stop, or woken by a writer in the same process)."""

    mode = "polling"

    def __init__(self, look: threading.Event, interval: float) -> None:
        self.look = look
        self.interval = interval

    def wait(self) -> None:
        self.look.wait(self.interval)
        self.look.clear()


class Listening:
    """LISTEN on the recorder's channel, on a connection held for the follower's lifetime.

    The heartbeat bounds how long a stop request waits, and makes a lost notification cost
    at most one heartbeat rather than an event left unapplied."""

    mode = "listening"

    def __init__(self, connection: Any, heartbeat: float) -> None:
        self.connection = connection
        self.heartbeat = heartbeat

    def wait(self) -> None:
        for _ in self.connection.notifies(timeout=self.heartbeat, stop_after=1):
            pass
        for _ in self.connection.notifies(timeout=0):
            pass  # the ones that queued up meanwhile: one catch-up serves them all


def listens(runner: Runner) -> bool:
    """Whether the runner's event store can wake a follower (PostgreSQL's NOTIFY)."""
    return hasattr(runner.engine.recorder, "channel_name")


class Follower:
    """Keeps the read models up with the event store until ``stop()``.

    ``run()`` first LISTENs (on PostgreSQL), then catches up, so no event recorded in
    between goes unseen; ``ready`` is set (and ``on_ready()`` called) once that first
    catch-up is done. Then it waits for new events and applies them, batch by batch,
    reporting each committed batch to ``on_batch(count, position)``. A stop request is
    honoured between batches (each batch is one transaction), within ``poll_interval`` or
    ``heartbeat`` seconds when idle.
    """

    def __init__(
        self,
        runner: Runner,
        poll_interval: float = POLL_INTERVAL,
        on_batch: Callable[[int, int], None] = lambda n, position: None,
        heartbeat: float = HEARTBEAT,
        on_ready: Callable[[], None] = lambda: None,
    ) -> None:
        self.runner = runner
        self.poll_interval = poll_interval
        self.heartbeat = heartbeat
        self.on_batch = on_batch
        self.on_ready = on_ready
        self.stopping = threading.Event()
        self.ready = threading.Event()
        self._look = threading.Event()  # polling: look now rather than at the next interval

    @property
    def mode(self) -> str:
        return Listening.mode if listens(self.runner) else Polling.mode

    def stop(self) -> None:
        self.stopping.set()
        self._look.set()

    def wake(self) -> None:
        """Look for new events now: a writer in this process just recorded some. (On
        PostgreSQL the recorder's NOTIFY wakes the follower anyway.)"""
        self._look.set()

    def run(self) -> int:
        """Follow until stopped; return how many events this follower applied."""
        applied = 0
        with self._wakeup() as wakeup:
            while not self.stopping.is_set():
                applied += self.runner.catch_up(
                    stopping=self.stopping.is_set, on_batch=self.on_batch
                )
                if not self.ready.is_set():
                    self.ready.set()
                    self.on_ready()
                if not self.stopping.is_set():
                    wakeup.wait()
        return applied

    @contextmanager
    def _wakeup(self) -> Iterator[Wakeup]:
        recorder: Any = self.runner.engine.recorder
        if not listens(self.runner):
            yield Polling(self._look, self.poll_interval)
            return
        from psycopg.sql import SQL, Identifier

        with recorder.datastore.get_connection() as connection:
            connection.execute(SQL("LISTEN {}").format(Identifier(recorder.channel_name)))
            try:
                yield Listening(connection, self.heartbeat)
            finally:
                if not connection.broken:  # back to the pool without our channel
                    connection.execute("UNLISTEN *")
