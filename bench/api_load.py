"""Load on the HTTP side: 50 concurrent clients on loopback against the regional demo.

Figures (each against a bare FastAPI app on the same uvicorn, under the same load: ``GET
/constant`` returning a constant, ``POST /constant`` validating a small JSON body):

* ``api_initiative_page_p99_ms`` / ``api_initiative_page_per_s``: the server-rendered
  initiative page (logged-in session) of a regional initiative. Goal: p99 < 50 ms.
* ``api_pipeline_p99_ms`` / ``api_pipeline_per_s``: ``GET /api/pipeline`` with a bearer
  token. Goal: p99 < 50 ms.
* ``api_pipeline_idle_ms``: one client, one request after another on an idle server: the
  median of ``IDLE`` requests to ``/api/pipeline`` vs ``/constant``. Goal: <= 2 ms.
* ``api_decision_p99_ms`` / ``api_decision_per_s``: ``POST /api/commands/report-impact``
  by the 50 clients, each request a new command id (``Idempotency-Key``), spread over the
  demo's initiatives that may report impact; each answer waits until the read models
  include the decision (read your writes). One worker: the engine decides one command at
  a time per process anyway, and two processes on one initiative would conflict. Against
  the bare ``POST /constant``.
* ``api_initiative_page_2_workers_*`` and ``api_pipeline_2_workers_*``: the same reads with
  ``uvicorn --workers 2``, against the bare app with two workers too.

Each server is uvicorn on a free port (``--factory``; one worker unless said); the clients
are one asyncio process (a bare HTTP/1.1 keep-alive client, so the client costs little on a
small machine). Run: ``.venv/bin/python bench/api_load.py [--seconds 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).parent))
from figure import emit, figure, note

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 50
IDLE = 300  # sequential requests for the idle latency
INITIATIVE = "timber-reuse"


class Report(BaseModel):
    """The bare POST's body: about the size of a report-impact request."""

    initiative_id: str
    period: int
    jobs_fte: float
    reason: str


def baseline_app() -> Any:
    """The bare comparison: FastAPI on the same uvicorn, returning a constant (GET) or the
    validated body's fields (POST)."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/constant")
    def constant() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/constant")
    def posted(report: Report) -> dict[str, str | int]:
        return {"id": report.initiative_id, "period": report.period}

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(target: str, env: dict[str, str], workers: int = 1) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            target,
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--app-dir",
            str(ROOT / "bench"),
            *(["--workers", str(workers)] if workers > 1 else []),
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=sys.stderr,  # the server's own lines are diagnostics: stdout is for figures
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/docs", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{target} did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


async def fetch(reader: Any, writer: Any, request: bytes) -> int:
    """One request on a kept-alive connection; returns the status (the body is read)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
    await reader.readexactly(length)
    return int(head.split(b" ", 2)[1])


Requests = Callable[[int, int], bytes]
"""The n-th request of client c, as bytes."""


def get(url: str, headers: dict[str, str]) -> Requests:
    parts = httpx.URL(url)
    lines = [f"GET {parts.raw_path.decode()} HTTP/1.1", f"Host: {parts.host}:{parts.port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return lambda client, n: request


def post(url: str, headers: dict[str, str], body: Callable[[int, int], dict[str, Any]]) -> Requests:
    """A POST of a JSON body, with a new Idempotency-Key each time."""
    parts = httpx.URL(url)

    def request(client: int, n: int) -> bytes:
        content = json.dumps(body(client, n)).encode()
        lines = [f"POST {parts.raw_path.decode()} HTTP/1.1", f"Host: {parts.host}:{parts.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines += [
            "Content-Type: application/json",
            f"Content-Length: {len(content)}",
            f"Idempotency-Key: bench-{os.getpid()}-{client}-{n}",
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + content

    return request


def hammer(url: str, seconds: float, requests: Requests, clients: int = CLIENTS) -> list[float]:
    """``clients`` clients, each on its own kept-alive connection, one request after
    another, for ``seconds``; latencies in ms. A bare asyncio client, so the client costs
    little."""
    return asyncio.run(_hammer(url, seconds, requests, clients))


async def _hammer(url: str, seconds: float, requests: Requests, clients: int) -> list[float]:
    parts = httpx.URL(url)
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def one_client(client: int) -> None:
        reader, writer = await asyncio.open_connection(parts.host, parts.port)
        await fetch(reader, writer, requests(client, 0))  # warm up
        n = 1
        while time.perf_counter() < stop:
            start = time.perf_counter()
            status = await fetch(reader, writer, requests(client, n))
            latencies.append((time.perf_counter() - start) * 1000)
            if status != 200:
                raise RuntimeError(f"{url}: {status}")
            n += 1
        writer.close()

    await asyncio.gather(*(one_client(c) for c in range(clients)))
    return latencies


def idle(url: str, requests: Requests) -> float:
    """The median latency (ms) of IDLE requests, one after another, from one client."""
    latencies = hammer(url, 0, requests, clients=1)  # warm up the connection and the app
    parts = httpx.URL(url)

    async def one_by_one() -> list[float]:
        reader, writer = await asyncio.open_connection(parts.host, parts.port)
        for n in range(20):
            await fetch(reader, writer, requests(0, n))
        for n in range(IDLE):
            start = time.perf_counter()
            status = await fetch(reader, writer, requests(0, n))
            latencies.append((time.perf_counter() - start) * 1000)
            if status != 200:
                raise RuntimeError(f"{url}: {status}")
        writer.close()
        return latencies

    return statistics.median(asyncio.run(one_by_one()))


def p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100)[98]


BROKER = "broker-bas"  # the demo's broker whose mandate covers the initiatives reporting impact


def prepare(home: Path) -> tuple[str, str]:
    """The regional demo through `kringloop demo`, a manager's token and a token for the
    demo's broker (who decides on their initiatives)."""
    kringloop = [sys.executable, "-m", "adapters.cli", "--home", str(home)]
    subprocess.run([*kringloop, "demo", "--fresh", "--json"], check=True, capture_output=True)
    tokens = []
    for name, role in (("bench-manager", "manager"), (BROKER, "broker")):
        add = ["users", "add", name, "--role", role, "--actor", "board-secretariat", "--json"]
        done = subprocess.run(
            [*kringloop, *add],
            check=True,
            capture_output=True,
            text=True,
        )
        tokens.append(str(json.loads(done.stdout)["token"]))
    return tokens[0], tokens[1]


def session_cookie(base: str, token: str) -> str:
    with httpx.Client(base_url=base) as client:
        login = client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert csrf is not None
        client.post("/login", data={"token": token, "csrf_token": csrf.group(1)})
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def reporting(base: str, bearer: dict[str, str]) -> list[str]:
    """The broker's initiatives that may report impact now (their next steps say so)."""
    with httpx.Client(base_url=base, headers=bearer, timeout=30) as client:
        found = []
        for summary in client.get("/api/initiatives", params={"broker": BROKER}).json():
            detail = client.get(f"/api/initiatives/{summary['id']}").json()
            steps = {s["command"]: s["allowed"] for s in detail["next_steps"]}
            if steps.get("report-impact"):
                found.append(summary["id"])
    if not found:
        raise RuntimeError("no initiative of the demo may report impact")
    return found


def reads(base: str, token: str, seconds: float) -> tuple[list[float], list[float]]:
    """The initiative page and the pipeline API under load."""
    cookie = {"Cookie": session_cookie(base, token)}
    note("initiative page")
    page = hammer(
        f"{base}/initiatives/{INITIATIVE}", seconds, get(f"{base}/initiatives/{INITIATIVE}", cookie)
    )
    note("pipeline API")
    bearer = {"Authorization": f"Bearer {token}"}
    pipe = hammer(base + "/api/pipeline", seconds, get(base + "/api/pipeline", bearer))
    return page, pipe


def run(seconds: float) -> list[dict[str, Any]]:
    """Every figure of the module's doc, ``seconds`` of load each."""
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        note("loading the regional demo")
        token, broker_token = prepare(home)
        bare_body = {"initiative_id": INITIATIVE, "period": 2024, "jobs_fte": 1.5, "reason": "x"}
        with server("api_load:baseline_app", {}) as base:
            note("baseline: bare FastAPI constant")
            bare = hammer(base + "/constant", seconds, get(base + "/constant", {}))
            bare_idle = idle(base + "/constant", get(base + "/constant", {}))
            note("baseline: bare FastAPI POST")
            bare_posts = hammer(
                base + "/constant", seconds, post(base + "/constant", {}, lambda c, n: bare_body)
            )
        with server("api_load:baseline_app", {}, workers=2) as base:
            note("baseline: bare FastAPI constant, 2 workers")
            bare_2 = hammer(base + "/constant", seconds, get(base + "/constant", {}))
        env = {"KRINGLOOP_HOME": str(home), "KRINGLOOP_LOG_LEVEL": "warning"}
        with server("adapters.api.app:create_app", env, workers=2) as base:
            note("2 workers:")
            page_2, pipe_2 = reads(base, token, seconds)
        bearer = {"Authorization": f"Bearer {token}"}
        with server("adapters.api.app:create_app", env) as base:
            page, pipe = reads(base, token, seconds)
            note("pipeline API, idle")
            pipe_idle = idle(base + "/api/pipeline", get(base + "/api/pipeline", bearer))
            broker = {"Authorization": f"Bearer {broker_token}"}
            initiatives = reporting(base, broker)
            note(f"decisions: report-impact on {len(initiatives)} initiatives")

            def report(client: int, n: int) -> dict[str, Any]:
                return {
                    "initiative_id": initiatives[client % len(initiatives)],
                    "period": 2000 + n % 100,
                    "jobs_fte": 1 + n % 7,
                    "reason": "benchmark report",
                }

            posts = hammer(
                base + "/api/commands/report-impact",
                seconds,
                post(base + "/api/commands/report-impact", broker, report),
            )
    rows = []
    for name, lat, base_lat in (
        ("api_initiative_page", page, bare),
        ("api_pipeline", pipe, bare),
        ("api_decision", posts, bare_posts),
        ("api_initiative_page_2_workers", page_2, bare_2),
        ("api_pipeline_2_workers", pipe_2, bare_2),
    ):
        rows.append(figure(f"{name}_p99_ms", p99(lat), "ms", p99(base_lat), "lower"))
        rate, base_rate = len(lat) / seconds, len(base_lat) / seconds
        rows.append(figure(f"{name}_per_s", rate, "requests/s", base_rate, "higher"))
    rows.append(figure("api_pipeline_idle_ms", pipe_idle, "ms", bare_idle, "lower"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    for row in run(parser.parse_args().seconds):
        emit(row)


if __name__ == "__main__":
    main()
