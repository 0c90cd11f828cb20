"""Benchmark ``messaging`` (``run.py --only messaging``): does a Prefect server keep every
task-run record of a burst? Prefect's default in-memory messaging against Redis
(``prefect-redis``), the server's database on PostgreSQL in both cases.

A Prefect server records task runs from the event stream: the client sends each task run's
state changes as events, the server's task-run recorder consumes them from its messaging
broker and writes the rows. The default broker is an in-process queue of bounded size; under
a burst it can drop messages, and the records they carried are lost without an error. With
``PREFECT_MESSAGING_BROKER=prefect_redis.messaging`` the events go through Redis streams.

For each broker: a fresh PostgreSQL database and a real ``prefect server start`` process
(with Redis: a Redis database of its own, flushed); one flow run, in a child process pointed
at that server, that runs ``BURST`` empty task runs (``task.map`` over ``range(BURST)``,
small 5,000 / large 20,000); then, untimed, the server's count of that flow run's task runs
is polled until it reaches ``BURST`` or stops growing for ``SETTLE_S`` seconds.

* ``prefect_task_runs_kept_memory`` / ``prefect_task_runs_kept_redis``: task-run records the
  server holds after the burst, per cent of ``BURST``. Baseline: 100 (every task run that
  ran); ``ratio = value / baseline`` (1 means nothing lost).
* ``prefect_task_runs_recorded_per_s_memory`` / ``..._redis``: records written per second,
  from the burst's start until the count stopped growing. Baseline: task runs executed per
  second by the flow run itself; ``ratio = value / baseline``.

Needs PostgreSQL at ``KRINGLOOP_BENCH_PG`` (default postgresql://postgres@127.0.0.1:5432)
and Redis at ``KRINGLOOP_BENCH_REDIS`` (default redis://127.0.0.1:6379).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from figure import figure, note

PG = os.environ.get("KRINGLOOP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS = os.environ.get("KRINGLOOP_BENCH_REDIS", "redis://127.0.0.1:6379")
BURST = {"small": 5_000, "large": 20_000}
SETTLE_S = 20.0

BURST_FLOW = """
import sys, time, json
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

@task(cache_policy=NO_CACHE, persist_result=False)
def nothing(i):
    return i

@flow(name="burst", persist_result=False)
def burst(n):
    nothing.map(range(n)).wait()

started = time.time()
state = burst(int(sys.argv[1]), return_state=True)
print(json.dumps({"flow_run_id": str(state.state_details.flow_run_id),
                  "started": started, "seconds": time.time() - started}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _messaging_env(broker: str, redis_url: str) -> dict[str, str]:
    if broker == "memory":
        return {}
    return {
        "PREFECT_MESSAGING_BROKER": "prefect_redis.messaging",
        "PREFECT_MESSAGING_CACHE": "prefect_redis.messaging",
        "PREFECT_SERVER_EVENTS_CAUSAL_ORDERING": "prefect_redis.ordering",
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect_redis.lease_storage",
        "PREFECT_REDIS_MESSAGING_URL": redis_url,
        "PREFECT_SERVER_DOCKET_URL": redis_url,
    }


def _count(api: str, flow_run_id: str) -> int:
    import httpx

    answer = httpx.post(
        f"{api}/task_runs/count",
        json={"flow_runs": {"id": {"any_": [flow_run_id]}}},
        timeout=30,
    )
    answer.raise_for_status()
    return int(answer.json())


def one_broker(broker: str, burst: int) -> dict[str, float]:
    import httpx
    import psycopg
    import redis

    database = f"kringloop_bench_prefect_{uuid.uuid4().hex[:8]}"
    redis_url = f"{REDIS}/{1 + uuid.uuid4().int % 15}"
    if broker == "redis":
        redis.Redis.from_url(redis_url).flushdb()
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    with tempfile.TemporaryDirectory(prefix="kringloop-bench-messaging-") as folder:
        env = {
            **os.environ,
            "PREFECT_HOME": folder,
            "PREFECT_API_URL": api,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_API_DATABASE_CONNECTION_URL": (
                f"{PG.replace('postgresql://', 'postgresql+asyncpg://')}/{database}"
            ),
            "PREFECT_LOGGING_LEVEL": "WARNING",
            **_messaging_env(broker, redis_url),
        }
        log = (Path(folder) / "server.log").open("wb")
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"prefect server did not start ({broker})")
                time.sleep(0.5)
            note(f"messaging {broker}: {burst} task runs in one flow run")
            ran = subprocess.run(
                [sys.executable, "-c", BURST_FLOW, str(burst)],
                env=env,
                capture_output=True,
                text=True,
                timeout=1800,
                check=True,
            )
            import json

            result: dict[str, Any] = json.loads(ran.stdout.strip().splitlines()[-1])
            last, last_change, recorded_at = -1, time.monotonic(), time.time()
            while True:
                count = _count(api, result["flow_run_id"])
                if count != last:
                    last, last_change = count, time.monotonic()
                    recorded_at = time.time()
                if count >= burst or time.monotonic() - last_change > SETTLE_S:
                    break
                time.sleep(1.0)
            note(f"messaging {broker}: {last} of {burst} task-run records kept")
            return {
                "kept_percent": 100.0 * last / burst,
                "recorded_per_s": last / max(recorded_at - result["started"], 1e-9),
                "executed_per_s": burst / result["seconds"],
            }
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
            with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            if broker == "redis":
                redis.Redis.from_url(redis_url).flushdb()


def run(size: str) -> list[dict[str, Any]]:
    burst = BURST[size]
    rows = []
    for broker in ("memory", "redis"):
        measured = one_broker(broker, burst)
        rows.append(
            figure(
                f"prefect_task_runs_kept_{broker}",
                measured["kept_percent"],
                "%",
                100.0,
                "higher",
            )
        )
        rows.append(
            figure(
                f"prefect_task_runs_recorded_per_s_{broker}",
                measured["recorded_per_s"],
                "task runs/s",
                measured["executed_per_s"],
                "higher",
            )
        )
    return rows


if __name__ == "__main__":
    from figure import emit

    for row in run(sys.argv[1] if len(sys.argv) > 1 else "small"):
        emit(row)
