"""Slows down token guessing: failed logins and unknown bearer tokens, per client address
and across all addresses.

The pages log in with a token, not a user name, so there is no name to count failures
against: the key is the door (``login`` or ``api``) and the client's address. Only failures
are slowed: a valid token is looked up first (one SHA-256 and an indexed lookup, the same
work for any token) and accepted even while its address waits, so an attacker sharing an
address (a NAT, a proxy) cannot lock its valid users out. A success never clears the
failures counted against an address; only time does.

The counts live in the read store's database (``adapters.accounts.login_failures``) once the
app shares them (``share``), so every worker of `kringloop api --workers N` and every host
on the same database slows the same guesser: failures spread over workers add up. Until
then (a throttle on its own, as in tests) they live in a private in-memory database.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import StaticPool

from adapters.accounts import login_failures


class LoginThrottle:
    """The first ``free`` failures from one key cost nothing; each one after that makes the
    key wait twice as long as the one before (1 s, 2 s, 4 s, ... at most ``max_wait``).
    ``forget_after`` seconds without a failure start the key afresh; a success does not.
    Across all keys, at most ``global_budget`` failures in ``global_window`` seconds: once
    they are spent, every key waits until the window frees a place (guessing from many
    addresses is slowed as well).

    ``clock`` gives seconds; tests pass their own, so nothing sleeps. ``database`` gives the
    engine whose tables hold the counts (asked for at first use, so the store opens late);
    without one they are this throttle's own.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        free: int = 5,
        first_wait: float = 1.0,
        max_wait: float = 900.0,
        forget_after: float = 3600.0,
        keep: int = 10_000,
        global_budget: int = 100,
        global_window: float = 60.0,
        database: Callable[[], Engine] | None = None,
    ) -> None:
        self.clock = clock
        self.free = free
        self.first_wait = first_wait
        self.max_wait = max_wait
        self.forget_after = forget_after
        self.keep = keep  # keys remembered at most: a flood of addresses cannot fill storage
        self.global_budget = global_budget
        self.global_window = global_window
        self._database = database or _private_database
        self._engine: Engine | None = None
        self._lock = threading.Lock()  # one failure at a time per process; workers: the database
        if database is not None:
            self.share(database)

    def share(self, database: Callable[[], Engine]) -> None:
        """Keep the counts in ``database``'s tables, shared with every process that uses it.
        Monotonic seconds are one host's own: shared counts go by the wall clock."""
        self._database, self._engine = database, None
        if self.clock is time.monotonic:
            self.clock = time.time

    def _db(self) -> Engine:
        if self._engine is None:
            engine = self._database()
            login_failures.create_tables(engine)
            self._engine = engine
        return self._engine

    def wait(self, key: str) -> float:
        """Seconds the key must still wait before its next attempt; 0 means go ahead."""
        with self._lock:
            now = self.clock()
            found = login_failures.standing(self._db(), key, self.global_budget)
        own = 0.0
        if found.last_at is not None and now - found.last_at < self.forget_after:
            own = min(self.max_wait, found.last_at + self._earned(found.failures) - now)
        spent = found.budget_spent_at
        shared = 0.0 if spent is None else min(self.global_window, spent + self.global_window - now)
        return max(0.0, own, shared)

    def failed(self, key: str) -> float:
        """Count a failed attempt; returns the wait it earned (0 while still free)."""
        with self._lock:
            now = self.clock()
            failures = login_failures.count_failure(
                self._db(), key, now, self.forget_after, self.global_window, self.keep
            )
        return self._earned(failures)

    def _earned(self, failures: int) -> float:
        over = failures - self.free
        if over <= 0:
            return 0.0
        return min(self.max_wait, self.first_wait * 2.0 ** min(over - 1, 64))

    def succeeded(self, key: str) -> None:
        """Nothing: one client's success must not clear the failures of another on the same
        address (an attacker with a token of their own would guess on for ever)."""

    def __len__(self) -> int:
        """How many keys it remembers."""
        with self._lock:
            return login_failures.remembered(self._db())


def _private_database() -> Engine:
    """An in-memory SQLite database of one throttle's own (one connection, any thread)."""
    return create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )


def retry_after(wait: float) -> str:
    """The Retry-After header: whole seconds, rounded up."""
    return str(max(1, math.ceil(wait)))
