"""The app on a real loopback port: a free port, uvicorn in a thread, or `kringloop api` as
a process waited for until it answers."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn

from adapters.api.app import create_app
from adapters.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(settings: Settings, port: int) -> Iterator[str]:
    """The API and pages served by uvicorn on ``port`` (loopback), in a thread."""
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def answering(server: subprocess.Popen[str], port: int) -> str:
    """The base address of a `kringloop api` process on ``port``, once its health check
    answers (within a minute, the process still running)."""
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return base
        except httpx.TransportError:
            pass
        assert server.poll() is None, "the API process is running"
        assert time.monotonic() < deadline, "the API answered within a minute"
        time.sleep(0.1)
