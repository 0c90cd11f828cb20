"""Prefect wiring: the deployments of prefect.yaml, a real local Prefect server on the data
folder for `kringloop serve`, and running one flow now. Prefect is imported only here, and
only when a flow is about to run: a broker's command never pays for it."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from adapters.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    entrypoint: str
    description: str = ""
    schedules: list[dict[str, Any]] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def schedule_text(self) -> str:
        parts = [s.get("cron") or f"every {s.get('interval')} s" for s in self.schedules]
        return ", ".join(parts) or "on demand"


def deployment_specs(path: Path = PROJECT_ROOT / "prefect.yaml") -> list[DeploymentSpec]:
    """The deployments declared in prefect.yaml (its anchors resolved)."""
    declared = yaml.safe_load(path.read_text())
    return [
        DeploymentSpec(
            name=d["name"],
            entrypoint=d["entrypoint"],
            description=d.get("description", ""),
            schedules=list(d.get("schedules") or []),
            parameters=dict(d.get("parameters") or {}),
        )
        for d in declared["deployments"]
    ]


def load_flow(entrypoint: str) -> Any:
    """`flows/x.py:fn` -> the flow object."""
    path, _, attribute = entrypoint.partition(":")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    return getattr(module, attribute)


def prefect_env(settings: Settings) -> dict[str, str]:
    """Prefect's home and database inside the data folder: a user's own setup is untouched."""
    prefect_home = (settings.home / "prefect").resolve()
    prefect_home.mkdir(parents=True, exist_ok=True)
    env = {
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_EXTRA_LOGGERS": "kringloop",
        "PREFECT_LOGGING_LEVEL": "INFO",
        "KRINGLOOP_HOME": str(settings.home.resolve()),
    }
    if "PREFECT_API_DATABASE_CONNECTION_URL" not in os.environ:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = (
            f"sqlite+aiosqlite:///{prefect_home / 'prefect.db'}"
        )
    if settings.database_url:
        env["KRINGLOOP_DATABASE_URL"] = settings.database_url
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def prefect_server(settings: Settings, timeout: float = 90) -> Iterator[str]:
    """A real `prefect server` process on the data folder (or PREFECT_API_URL when set),
    healthy before this yields, stopped cleanly after."""
    if os.environ.get("PREFECT_API_URL"):
        yield os.environ["PREFECT_API_URL"]
        return
    port = _free_port()
    env = {**os.environ, **prefect_env(settings)}
    log_path = settings.home / "prefect" / "server.log"
    with log_path.open("ab") as log:
        server = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C stops serve first; then we stop the server
        )
    url = f"http://127.0.0.1:{port}/api"
    try:
        _wait_healthy(url, server, timeout, log_path)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_healthy(
    url: str, server: subprocess.Popen[bytes], timeout: float, log_path: Path
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"prefect server exited ({server.returncode}); see {log_path}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/health", timeout=2) as answer,  # noqa: S310
        ):
            if answer.status == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"prefect server not healthy after {timeout:.0f} s; see {log_path}")


def _schedules(spec: DeploymentSpec) -> list[Any]:
    from prefect.schedules import Cron, Interval

    made = []
    for s in spec.schedules:
        if "cron" in s:
            made.append(Cron(s["cron"], timezone=s.get("timezone")))
        else:
            made.append(Interval(int(s["interval"])))
    return made


def serve_all(settings: Settings) -> None:
    """Run every deployment of prefect.yaml on this machine until interrupted."""
    os.environ.update(prefect_env(settings))
    with prefect_server(settings) as url:
        os.environ["PREFECT_API_URL"] = url
        from prefect import serve

        deployments = [
            load_flow(spec.entrypoint).to_deployment(
                name=spec.name,
                description=spec.description,
                schedules=_schedules(spec),
                parameters=spec.parameters,
            )
            for spec in deployment_specs()
        ]
        with contextlib.suppress(KeyboardInterrupt):
            serve(*deployments, print_starting_message=True)
        # The runner's observers notice the server going away after serve() returned: that
        # is the shutdown we asked for, not a problem worth a traceback.
        logging.getLogger("prefect").setLevel(logging.ERROR)


def run_flow(settings: Settings, name: str, parameters: dict[str, Any]) -> Any:
    """Run one flow now, in this process, and return its result."""
    specs = {s.name: s for s in deployment_specs()}
    if name not in specs:
        raise KeyError(f"no flow '{name}' (flows: {', '.join(specs)})")
    os.environ.update(prefect_env(settings))
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    flow = load_flow(specs[name].entrypoint)
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return flow(**{**specs[name].parameters, **parameters})
