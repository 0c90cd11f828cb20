"""The configuration of "Running beyond one machine", on loopback: the event store, the read
models and a Prefect server all on PostgreSQL (each in its own database or schema), Prefect's
messaging on Redis, the deployments of prefect.yaml sent to the process work pool with
`prefect deploy --all`, and two `prefect worker` processes serving it.

The scale-up check and a projection catch-up are triggered as deployments and their result
read from the read models; then the worker running a scale-up check is killed with its flow
process, as if its machine were lost, and the run is rescheduled by the automation of
flows/automations.yaml and finished by the other worker, recording nothing twice.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from adapters.settings import Settings
from adapters.store import open_engine
from domain.engine import Engine, today_in_programme_tz
from tests.conftest import PG_ADMIN, missing_part, runner
from tests.scenario import PROGRAMME, checked_programme, withdrawn

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
PREFECT = [sys.executable, "-m", "prefect"]
REDIS = os.environ.get("KRINGLOOP_TEST_REDIS", "redis://127.0.0.1:6379")
INITIATIVES = 40
SCHEDULER = "scheduler:phase-3-check"
EARLIER = (today_in_programme_tz() - timedelta(days=30)).isoformat()
"""The first check's day; the second runs on the real today."""
REPORTED = (today_in_programme_tz() - timedelta(days=60)).isoformat()
"""The initiatives' impact reports: recent evidence on both check days."""


def redis_db() -> str:
    """A Redis database of its own for this session (0 is left to whoever else uses it)."""
    import redis

    db = 1 + uuid.uuid4().int % 15
    url = f"{REDIS}/{db}"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3)
        client.flushdb()
        client.close()
    except redis.RedisError as error:
        missing_part(f"no Redis at {REDIS} ({error})")
    return url


@dataclass
class Cluster:
    api: str
    settings: Settings
    env: dict[str, str]
    logs: Path
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> Any:
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [*PREFECT, *args],
            cwd=ROOT,
            env={**os.environ, **self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def prefect(self, *args: str) -> str:
        done = subprocess.run(
            [*PREFECT, "--no-prompt", *args],
            cwd=ROOT,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def run_deployment(self, flow: str, deployment: str, **parameters: Any) -> str:
        found = httpx.get(f"{self.api}/deployments/name/{flow}/{deployment}", timeout=30)
        found.raise_for_status()
        created = httpx.post(
            f"{self.api}/deployments/{found.json()['id']}/create_flow_run",
            json={"parameters": parameters},
            timeout=30,
        )
        created.raise_for_status()
        return str(created.json()["id"])

    def flow_run(self, run_id: str) -> dict[str, Any]:
        answer = httpx.get(f"{self.api}/flow_runs/{run_id}", timeout=30)
        answer.raise_for_status()
        return dict(answer.json())

    def state_names(self, run_id: str) -> list[str]:
        answer = httpx.get(f"{self.api}/flow_run_states/", params={"flow_run_id": run_id})
        answer.raise_for_status()
        return [s["name"] for s in sorted(answer.json(), key=lambda s: s["timestamp"])]

    def wait_final(self, run_id: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.flow_run(run_id)
            if run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                return run
            time.sleep(0.5)
        raise AssertionError(
            f"flow run {run_id} not finished in {timeout:.0f} s: {self.state_names(run_id)}"
            f"; see the logs in {self.logs}"
        )


def _wait_healthy(api: str, server: subprocess.Popen[bytes], logs: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, f"prefect server exited; see {logs / 'server.log'}"
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"prefect server not healthy in 120 s; see {logs / 'server.log'}")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            for pid in [process.pid, *descendants(process.pid)]:
                _kill(pid)
            process.wait(timeout=10)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def descendants(pid: int) -> list[int]:
    """Every live process below pid, from /proc (the flow-run process sits in a session of
    its own under the worker, so killing the worker's group would not reach it)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@pytest.fixture(scope="module")
def cluster(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    tag = uuid.uuid4().hex[:8]
    prefect_db = f"kringloop_prefect_{tag}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{prefect_db}"')
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "cluster_{tag}"')
    redis_url = redis_db()
    home = tmp_path_factory.mktemp("cluster")
    logs = home / "logs"
    logs.mkdir()
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    settings = Settings(
        home=home / "data",
        database_url=postgres_url,
        database_schema=f"cluster_{tag}",
        read_schema=f"cluster_read_{tag}",
    )
    # Exactly the variables of the README's "Running beyond one machine".
    env = {
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_DATABASE_CONNECTION_URL": (
            f"postgresql+asyncpg://postgres@127.0.0.1:5432/{prefect_db}"
        ),
        "PREFECT_MESSAGING_BROKER": "prefect_redis.messaging",
        "PREFECT_MESSAGING_CACHE": "prefect_redis.messaging",
        "PREFECT_SERVER_EVENTS_CAUSAL_ORDERING": "prefect_redis.ordering",
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect_redis.lease_storage",
        "PREFECT_REDIS_MESSAGING_URL": redis_url,
        "PREFECT_SERVER_DOCKET_URL": redis_url,
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "KRINGLOOP_CODE_DIR": str(ROOT),
        "KRINGLOOP_HOME": str(settings.home),
        "KRINGLOOP_DATABASE_URL": postgres_url,
        "KRINGLOOP_DATABASE_SCHEMA": str(settings.database_schema),
        "KRINGLOOP_READ_SCHEMA": settings.read_schema,
    }
    made = Cluster(api=api, settings=settings, env=env, logs=logs)
    try:
        server = made.start("server", "server", "start", "--host", "127.0.0.1", "--port", str(port))
        _wait_healthy(api, server, logs)
        made.prefect("work-pool", "create", "kringloop-process", "--type", "process")
        made.prefect("deploy", "--all")
        made.prefect("automation", "create", "--from-file", "flows/automations.yaml")
        for name in ("worker-a", "worker-b"):
            made.workers[name] = made.start(
                name, "worker", "start", "--pool", "kringloop-process", "--name", name
            )
        yield made
    finally:
        for process in reversed(made.processes):
            _stop(process)
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{prefect_db}" WITH (FORCE)')


@pytest.fixture(scope="module")
def engine(cluster: Cluster) -> Iterator[Engine]:
    """The programme, with the scheduler's mandate, its criteria, and initiatives after
    board withdrawal, recorded in the cluster's PostgreSQL store."""
    opened = open_engine(cluster.settings)
    opened.clock = today_in_programme_tz
    run = runner(opened)
    checked_programme(run, services=(SCHEDULER,))
    for n in range(INITIATIVES):
        withdrawn(
            run, f"grass-{n:03}", tonnes=50_000 if n % 2 else 2_000, jobs=25, reported=REPORTED
        )
    yield opened
    opened.close()


def assessments(cluster: Cluster) -> dict[str, int]:
    """initiative (its aggregate id) -> scale-up assessments, straight from the event store."""
    schema = cluster.settings.database_schema
    with psycopg.connect(str(cluster.settings.database_url)) as conn:
        rows = conn.execute(
            f'SELECT originator_id::text, count(*) FROM "{schema}".kringloop_events '
            "WHERE topic LIKE %s GROUP BY 1",
            ("%ScaleUpAssessed",),
        ).fetchall()
    return {str(k): int(v) for k, v in rows}


def read_models(cluster: Cluster) -> dict[str, tuple[bool | None, str]]:
    schema = cluster.settings.read_schema
    with psycopg.connect(str(cluster.settings.database_url)) as conn:
        rows = conn.execute(
            f'SELECT initiative_id, last_assessment_ready, stage FROM "{schema}".initiatives'
        ).fetchall()
    return {str(i): (ready, str(stage)) for i, ready, stage in rows}


def test_deployments_run_on_the_workers_and_feed_the_read_models(
    cluster: Cluster, engine: Engine
) -> None:
    check = cluster.run_deployment(
        "scale-up-check", "scale-up-check", programme_id=PROGRAMME, today=EARLIER, page_size=10
    )
    assert cluster.wait_final(check, 180)["state"]["type"] == "COMPLETED"
    catch_up = cluster.run_deployment("projection-catch-up", "projection-catch-up")
    assert cluster.wait_final(catch_up, 120)["state"]["type"] == "COMPLETED"

    assert len(assessments(cluster)) == INITIATIVES
    seen = read_models(cluster)
    ready = sorted(i for i, (flag, _) in seen.items() if flag)
    assert ready == [f"grass-{n:03}" for n in range(INITIATIVES) if n % 2]
    assert {stage for _, stage in seen.values()} == {"board_withdrawn"}


def test_a_run_whose_worker_dies_is_rescheduled_and_writes_nothing_twice(
    cluster: Cluster, engine: Engine
) -> None:
    before = assessments(cluster)
    check = cluster.run_deployment(
        "scale-up-check",
        "scale-up-check",
        programme_id=PROGRAMME,  # today, a later day: every initiative is assessed again, once
        page_size=1,
    )
    deadline = time.monotonic() + 180
    while sum(assessments(cluster).values()) == sum(before.values()):
        assert time.monotonic() < deadline, f"the run never started: see {cluster.logs}"
        time.sleep(0.05)
    flow_pid = int(str(cluster.flow_run(check)["infrastructure_pid"]).rsplit(":", 1)[-1])
    (victim,) = [n for n, w in cluster.workers.items() if flow_pid in descendants(w.pid)]
    worker = cluster.workers.pop(victim)
    for pid in [worker.pid, *descendants(worker.pid)]:
        _kill(pid)  # the machine is gone: the worker and the flow run it was running
    worker.wait(timeout=10)
    partial = sum(assessments(cluster).values()) - sum(before.values())
    assert 0 < partial < INITIATIVES, "killed in the middle of the run"

    final = cluster.wait_final(check, 300)
    assert final["state"]["type"] == "COMPLETED", cluster.state_names(check)
    assert "Rescheduled" in cluster.state_names(check)
    after = assessments(cluster)
    new = {i: n - before.get(i, 0) for i, n in after.items()}
    assert sorted(new.values()) == [1] * INITIATIVES, "each assessed exactly once on the new day"
