"""Slows down token guessing: failed logins and unknown bearer tokens, per client address
and across all addresses.

The pages log in with a token, not a user name, so there is no name to count failures
against: the key is the door (``login`` or ``api``) and the client's address. Only failures
are slowed: a valid token is looked up first (one SHA-256 and an indexed lookup, the same
work for any token) and accepted even while its address waits, so an attacker sharing an
address (a NAT, a proxy) cannot lock its valid users out. A success never clears the
failures counted against an address; only time does.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    blocked_until: float = 0.0


class LoginThrottle:
    """The first ``free`` failures from one key cost nothing; each one after that makes the
    key wait twice as long as the one before (1 s, 2 s, 4 s, ... at most ``max_wait``).
    ``forget_after`` seconds without a failure start the key afresh; a success does not.
    Across all keys, at most ``global_budget`` failures in ``global_window`` seconds: once
    they are spent, every key waits until the window frees a place (guessing from many
    addresses is slowed as well).

    ``clock`` gives monotonic seconds; tests pass their own, so nothing sleeps.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        free: int = 5,
        first_wait: float = 1.0,
        max_wait: float = 900.0,
        forget_after: float = 3600.0,
        keep: int = 10_000,
        global_budget: int = 100,
        global_window: float = 60.0,
    ) -> None:
        self.clock = clock
        self.free = free
        self.first_wait = first_wait
        self.max_wait = max_wait
        self.forget_after = forget_after
        self.keep = keep  # keys remembered at most: a flood of addresses cannot fill memory
        self._failures: dict[str, _Failures] = {}
        self.global_budget = global_budget
        self.global_window = global_window
        self._recent: deque[float] = deque(maxlen=global_budget)  # the latest failures' times
        self._lock = threading.Lock()

    def wait(self, key: str) -> float:
        """Seconds the key must still wait before its next attempt; 0 means go ahead."""
        with self._lock:
            now = self.clock()
            found = self._current(key, now)
            own = 0.0 if found is None else max(0.0, found.blocked_until - now)
            return max(own, self._global_wait(now))

    def _global_wait(self, now: float) -> float:
        if len(self._recent) < self.global_budget:
            return 0.0
        return max(0.0, self._recent[0] + self.global_window - now)

    def failed(self, key: str) -> float:
        """Count a failed attempt; returns the wait it earned (0 while still free)."""
        with self._lock:
            now = self.clock()
            found = self._current(key, now) or _Failures()
            found.count += 1
            found.last = now
            self._recent.append(now)
            over = found.count - self.free
            wait = min(self.max_wait, self.first_wait * 2 ** (over - 1)) if over > 0 else 0.0
            found.blocked_until = now + wait
            self._failures[key] = found
            if len(self._failures) > self.keep:
                oldest = min(self._failures, key=lambda k: self._failures[k].last)
                del self._failures[oldest]
            return wait

    def succeeded(self, key: str) -> None:
        """Nothing: one client's success must not clear the failures of another on the same
        address (an attacker with a token of their own would guess on for ever)."""

    def __len__(self) -> int:
        """How many keys it remembers."""
        return len(self._failures)

    def _current(self, key: str, now: float) -> _Failures | None:
        found = self._failures.get(key)
        if found is not None and now - found.last >= self.forget_after:
            del self._failures[key]
            return None
        return found


def retry_after(wait: float) -> str:
    """The Retry-After header: whole seconds, rounded up."""
    return str(max(1, math.ceil(wait)))
