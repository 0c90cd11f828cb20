"""Follow latency: how soon after a command is recorded its event shows in the read models
kept by a follower in another process (``kringloop projections follow``).

* ``follow_latency_p50_ms_postgres`` and ``follow_latency_p99_ms_postgres`` (``_sqlite`` on
  SQLite): a ``projections.following.Follower`` runs in its own process on the store and the
  read models; this process records ``report-impact`` commands one at a time with
  ``Engine.execute`` on AGGREGATES initiatives at "consortium formed", a random pause of
  ``GAP`` seconds before each. For each event, latency = the moment the follower's read-store
  transaction holding it committed (``on_batch``) minus the moment ``execute`` returned here,
  both on ``time.monotonic()`` (one clock for every process on Linux). The median and 99th
  percentile over ``SAMPLES`` events, in ms. On PostgreSQL the follower is woken by the
  recorder's NOTIFY; on SQLite it polls every ``POLL`` seconds, so about half of that is the
  expected median there.
* Baseline: the bare library doing the same following without read models. The writer saves
  one event per command with a plain ``Application`` and ``Aggregate`` (``repository.get``,
  one ``@event`` call, ``save``), and the follower process only reads the new notifications:
  on PostgreSQL through the library's own LISTEN/NOTIFY subscription
  (``recorder.subscribe(gt=...)``: the time each notification reaches the iterating code), on
  SQLite by ``select_notifications`` after the last id every ``POLL`` seconds.

Durations: ``ratio = baseline / value``. The store size does not matter here (``--events`` is
ignored); the size sets the number of samples (small 200, large 1,000).
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))  # as a child process: python bench/follow_...

from figure import figure, note

SAMPLES = {"small": 200, "large": 1000}
GAP = (0.005, 0.045)  # seconds of pause before each command, drawn at random (seeded)
POLL = 0.1  # the follower's default poll interval on SQLite (projections.following)
DEADLINE = 120.0
SETTLE = 0.5  # seconds between a follower saying it is ready and the first command


# -- the followers, each in its own process ----------------------------------------------


def follow(env: dict[str, str], target: dict[str, Any], report: Callable[[int], None]) -> None:
    """The Kringloop follower: report each committed batch's position until stdin closes."""
    from domain.engine import Engine
    from projections.following import Follower
    from projections.runner import Runner
    from projections.store import ReadStore

    engine = Engine(env={**env, "CREATE_TABLE": "n"})
    store = ReadStore(target["url"], target["schema"])
    follower = Follower(
        Runner(engine, store),
        poll_interval=POLL,
        on_batch=lambda count, position: report(position),
        on_ready=lambda: report(0),
    )
    threading.Thread(target=lambda: (sys.stdin.read(), follower.stop()), daemon=True).start()
    follower.run()
    store.close()
    engine.close()


def follow_bare(env: dict[str, str], report: Callable[[int], None]) -> None:
    """The bare library: take each new notification in, nothing more, until stdin closes."""
    from engine_commands import BareApplication

    app = BareApplication(env={**env, "CREATE_TABLE": "n"})
    start = app.recorder.max_notification_id() or 0
    stop = threading.Event()
    if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        with app.recorder.subscribe(gt=start) as subscription:
            threading.Thread(
                target=lambda: (sys.stdin.read(), subscription.stop()), daemon=True
            ).start()
            report(0)
            for notification in subscription:
                report(notification.id)
    else:
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
        report(0)
        position = start
        while not stop.wait(POLL):
            notifications = app.recorder.select_notifications(
                start=position, limit=500, inclusive_of_start=False
            )
            if notifications:
                position = notifications[-1].id
                report(position)
    app.close()


def child_main(mode: str, env_json: str, target_json: str) -> None:
    def report(position: int) -> None:
        sys.stdout.write(f"{position} {time.monotonic()!r}\n")
        sys.stdout.flush()

    env = json.loads(env_json)
    if mode == "follow":
        follow(env, json.loads(target_json), report)
    else:
        follow_bare(env, report)


class Watched:
    """A follower process, and the (position, time) of each batch it reports."""

    def __init__(self, mode: str, env: dict[str, str], target: dict[str, Any]) -> None:
        argv = [sys.executable, __file__, mode, json.dumps(env), json.dumps(target)]
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.seen: list[tuple[int, float]] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for(0)  # ready: listening, or polling, and caught up
        time.sleep(SETTLE)  # the library's subscription LISTENs in a thread of its own

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            position, at = line.split()
            with self.changed:
                self.seen.append((int(position), float(at)))
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def wait_for(self, position: int) -> None:
        with self.changed:
            if not self.changed.wait_for(
                lambda: any(p >= position for p, _ in self.seen) or self.process.poll() is not None,
                timeout=DEADLINE,
            ):
                raise RuntimeError(f"the follower did not reach {position} in {DEADLINE} s")
        if not any(p >= position for p, _ in self.seen):
            raise RuntimeError(f"the follower exited with {self.process.returncode}")

    def stop(self) -> list[tuple[int, float]]:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=DEADLINE)
        if self.process.returncode != 0:
            raise RuntimeError(f"the follower exited with {self.process.returncode}")
        return self.seen


def latencies(commits: dict[int, float], seen: list[tuple[int, float]]) -> list[float]:
    """For each recorded event: ms from its commit to the first report at or past it."""
    reports = sorted((p, t) for p, t in seen if p > 0)
    found = []
    for notification_id, committed in commits.items():
        visible = next(t for p, t in reports if p >= notification_id)
        found.append((visible - committed) * 1000)
    return found


# -- the writers ---------------------------------------------------------------------------


def measure_engine(env: dict[str, str], target: dict[str, Any], samples: int) -> list[float]:
    from engine_commands import report_commands, setup_engine

    from domain.engine import Engine
    from projections.runner import Runner
    from projections.store import ReadStore

    engine = Engine(env=env)
    ids = setup_engine(engine)
    store = ReadStore(target["url"], target["schema"])
    store.create()
    Runner(engine, store).catch_up()
    store.close()
    commands = report_commands(ids, samples)
    pause = random.Random(8)
    watched = Watched("follow", env, target)
    commits = {}
    try:
        for command in commands:
            time.sleep(pause.uniform(*GAP))
            outcome = engine.execute(command)
            commits[int(outcome.notification_id or 0)] = time.monotonic()
        watched.wait_for(max(commits))
    finally:
        seen = watched.stop()
        engine.close()
    return latencies(commits, seen)


def measure_bare(env: dict[str, str], samples: int) -> list[float]:
    from engine_commands import AGGREGATES, BareApplication, Meter, impact

    env = {k: v for k, v in env.items() if k != "APPLICATION_RECORDER_TOPIC"}
    app = BareApplication(env=env)
    meters = [Meter(name=f"meter-{i:02d}") for i in range(AGGREGATES)]
    app.save(*meters)
    pause = random.Random(8)
    watched = Watched("bare", env, {})
    commits = {}
    try:
        for k in range(samples):
            time.sleep(pause.uniform(*GAP))
            meter = app.repository.get(meters[k % AGGREGATES].id)
            meter.report_impact(*impact(k))
            recordings = app.save(meter)
            commits[recordings[-1].notification.id] = time.monotonic()
        watched.wait_for(max(commits))
    finally:
        seen = watched.stop()
        app.close()
    return latencies(commits, seen)


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def run(size: str, backend: Any, events: int | None = None) -> list[dict[str, Any]]:
    samples = SAMPLES[size]
    note(f"follow latency: {samples} commands, the bare library first")
    bare = measure_bare(backend.env("follow_bare"), samples)
    ours = measure_engine(backend.env("follow"), backend.read_target("follow"), samples)
    rows = []
    for p in (50, 99):
        rows.append(
            figure(
                f"follow_latency_p{p}_ms{backend.suffix}",
                percentile(ours, p),
                "ms",
                percentile(bare, p),
                "lower",
            )
        )
    note(
        "follow latency: "
        + ", ".join(f"{r['name']} {r['value']:.1f} ms (bare {r['baseline']:.1f})" for r in rows)
    )
    return rows


if __name__ == "__main__":  # a follower: python bench/follow_latency.py MODE ENV_JSON TARGET
    child_main(*sys.argv[1:])
