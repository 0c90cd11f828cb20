"""The login throttle's counts in the read store's database, on SQLite and PostgreSQL: two
throttles on one database (two API workers, two hosts) count one guesser once, however the
guesses are spread and even when they come at the same moment. The clocks are the test's
own, except where the wall clock is the point."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from adapters.accounts import login_failures
from adapters.api.throttle import LoginThrottle

FREE = 5
KEY = "login:198.51.100.7"


def test_failures_spread_over_two_workers_add_up(read_store: Any) -> None:
    now = [1000.0]
    workers = [
        LoginThrottle(clock=lambda: now[0], database=lambda: read_store.engine) for _ in range(2)
    ]
    for n in range(FREE):
        assert workers[n % 2].failed(KEY) == 0
    assert workers[1].failed(KEY) == 1, "the sixth failure, wherever it lands, earns a wait"
    assert workers[0].wait(KEY) == workers[1].wait(KEY) == 1
    now[0] += 1
    assert workers[0].wait(KEY) == 0
    assert workers[0].failed(KEY) == 2


def test_the_global_budget_is_spent_by_both_workers_together(read_store: Any) -> None:
    now = [1000.0]
    workers = [
        LoginThrottle(clock=lambda: now[0], global_budget=10, database=lambda: read_store.engine)
        for _ in range(2)
    ]
    for n in range(10):
        workers[n % 2].failed(f"api:10.0.0.{n}")
    assert workers[0].wait("api:172.16.0.1") == workers[0].global_window
    now[0] += workers[0].global_window
    assert workers[1].wait("api:172.16.0.1") == 0


def test_failures_at_the_same_moment_are_all_counted(read_store: Any) -> None:
    workers = [LoginThrottle(database=lambda: read_store.engine) for _ in range(2)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: workers[n % 2].failed(KEY), range(40)))
    found = login_failures.standing(read_store.engine, KEY, budget=100)
    assert found.failures == 40


def test_a_shared_throttle_goes_by_the_wall_clock(read_store: Any) -> None:
    """Monotonic seconds are one host's own; another host's would not compare."""
    throttle = LoginThrottle(clock=time.monotonic)
    throttle.share(lambda: read_store.engine)
    assert throttle.clock is time.time
    throttle.failed(KEY)
    last_at = login_failures.standing(read_store.engine, KEY, budget=100).last_at
    assert last_at is not None
    assert abs(last_at - time.time()) < 3600, "wall seconds, not seconds since boot"
