"""Read load on the HTTP side: 50 concurrent clients on loopback against the regional demo.

Figures (each against a bare FastAPI app on the same uvicorn, returning a constant, under
the same load):

* ``api_initiative_page_p99_ms`` / ``api_initiative_page_per_s``: the server-rendered
  initiative page (logged-in session) of a regional initiative. Goal: p99 < 50 ms.
* ``api_pipeline_p99_ms`` / ``api_pipeline_per_s``: ``GET /api/pipeline`` with a bearer
  token. Goal: p99 < 50 ms.

Each server is one uvicorn process (one worker) on a free port; the clients are httpx
in one asyncio process (a bare HTTP/1.1 keep-alive client, so the client
costs little on a small machine). Run: ``.venv/bin/python bench/api_load.py [--seconds 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from figure import emit, figure, note

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 50
INITIATIVE = "timber-reuse"


def baseline_app() -> Any:
    """The bare comparison: FastAPI on the same uvicorn, returning a constant."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/constant")
    def constant() -> dict[str, str]:
        return {"status": "ok"}

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(target: str, env: dict[str, str]) -> Iterator[str]:
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


async def hammer(url: str, seconds: float, headers: dict[str, str]) -> list[float]:
    """CLIENTS clients, each on its own kept-alive connection, one request after another,
    for ``seconds``; latencies in ms. A bare asyncio client, so the client costs little."""
    parts = httpx.URL(url)
    lines = [f"GET {parts.raw_path.decode()} HTTP/1.1", f"Host: {parts.host}:{parts.port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def one_client() -> None:
        reader, writer = await asyncio.open_connection(parts.host, parts.port)
        await fetch(reader, writer, request)  # warm up
        while time.perf_counter() < stop:
            start = time.perf_counter()
            status = await fetch(reader, writer, request)
            latencies.append((time.perf_counter() - start) * 1000)
            if status != 200:
                raise RuntimeError(f"{url}: {status}")
        writer.close()

    await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
    return latencies


def p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100)[98]


def prepare(home: Path) -> str:
    """The regional demo through `kringloop demo`, and a manager's token."""
    kringloop = [sys.executable, "-m", "adapters.cli", "--home", str(home)]
    subprocess.run([*kringloop, "demo", "--fresh", "--json"], check=True, capture_output=True)
    done = subprocess.run(
        [*kringloop, "users", "add", "bench-manager", "--role", "manager", "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    import json

    return str(json.loads(done.stdout)["token"])


def session_cookie(base: str, token: str) -> str:
    with httpx.Client(base_url=base) as client:
        login = client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert csrf is not None
        client.post("/login", data={"token": token, "csrf_token": csrf.group(1)})
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def run(seconds: float) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        note("loading the regional demo")
        token = prepare(home)
        with server("api_load:baseline_app", {}) as base:
            note("baseline: bare FastAPI constant")
            bare = asyncio.run(hammer(base + "/constant", seconds, {}))
        env = {"KRINGLOOP_HOME": str(home), "KRINGLOOP_LOG_LEVEL": "warning"}
        with server("adapters.api.app:create_app", env) as base:
            cookie = {"Cookie": session_cookie(base, token)}
            note("initiative page")
            page = asyncio.run(hammer(f"{base}/initiatives/{INITIATIVE}", seconds, cookie))
            note("pipeline API")
            bearer = {"Authorization": f"Bearer {token}"}
            pipe = asyncio.run(hammer(base + "/api/pipeline", seconds, bearer))
    bare_p99, bare_rate = p99(bare), len(bare) / seconds
    rows = []
    for name, lat in (("api_initiative_page", page), ("api_pipeline", pipe)):
        rows.append(figure(f"{name}_p99_ms", p99(lat), "ms", bare_p99, "lower"))
        rows.append(figure(f"{name}_per_s", len(lat) / seconds, "requests/s", bare_rate, "higher"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    for row in run(parser.parse_args().seconds):
        emit(row)


if __name__ == "__main__":
    main()
