"""Prefect wiring: the deployments of prefect.yaml, a real local Prefect server on the data
folder for `kringloop serve`, and running one flow now. Prefect is imported only here, and
only when a flow is about to run: a broker's command never pays for it."""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
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
        **settings.environment(),
    }
    if "PREFECT_API_DATABASE_CONNECTION_URL" not in os.environ:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = (
            f"sqlite+aiosqlite:///{prefect_home / 'prefect.db'}"
        )
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVER_STARTUP_S = 120
"""Seconds a Prefect server (`serve`'s, or the temporary one Prefect starts for `flows run`)
gets to answer after it starts: a cold start imports Prefect and migrates its database, which
took longer than Prefect's default of 20 s on a loaded two-core machine."""
SHUTDOWN_GRACE_S = 20
"""After Ctrl-C, seconds `serve` leaves its flow runs in progress to end before it stops them."""
SERVER_STOP_S = 10  # then the server gets this long to stop before it is killed


@dataclass
class PrefectServer:
    url: str
    process: subprocess.Popen[bytes] | None = None  # None: someone else's (PREFECT_API_URL)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=SERVER_STOP_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _served_file(settings: Settings) -> Path:
    """Where a running `kringloop serve` notes its server, for `flows run` to find it."""
    return settings.home / "prefect" / "served.json"


@contextlib.contextmanager
def prefect_server(
    settings: Settings, timeout: float = SERVER_STARTUP_S
) -> Iterator[PrefectServer]:
    """A real `prefect server` process on the data folder (or PREFECT_API_URL when set),
    healthy before this yields, stopped cleanly after."""
    if os.environ.get("PREFECT_API_URL"):
        yield PrefectServer(os.environ["PREFECT_API_URL"])
        return
    port = _free_port()
    env = {**os.environ, **prefect_env(settings)}
    log_path = settings.home / "prefect" / "server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
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
    server = PrefectServer(f"http://127.0.0.1:{port}/api", process)
    served = _served_file(settings)
    try:
        _wait_healthy(server.url, process, timeout, log_path)
        served.write_text(json.dumps({"url": server.url, "pid": process.pid}))
        yield server
    finally:
        served.unlink(missing_ok=True)
        server.stop()


def running_server(settings: Settings) -> str | None:
    """The API URL of the Prefect server a `kringloop serve` runs on this data folder, if
    one does and answers."""
    try:
        url = str(json.loads(_served_file(settings).read_text())["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return url if _healthy(url) else None


def _healthy(url: str) -> bool:
    with (
        contextlib.suppress(OSError),
        urllib.request.urlopen(f"{url}/health", timeout=2) as answer,  # noqa: S310
    ):
        return bool(answer.status == 200)
    return False


def _wait_healthy(
    url: str, server: subprocess.Popen[bytes], timeout: float, log_path: Path
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"prefect server exited ({server.returncode}); see {log_path}")
        if _healthy(url):
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


def serve_all(settings: Settings, say: Callable[[str], None] = lambda text: None) -> None:
    """Run every deployment of prefect.yaml on this machine until interrupted; after Ctrl-C,
    stopped within SHUTDOWN_GRACE_S + SERVER_STOP_S seconds whatever the runs are doing."""
    os.environ.update(prefect_env(settings))
    if not os.environ.get("PREFECT_API_URL"):
        say(
            f"starting a Prefect server on {settings.home / 'prefect'} "
            f"(waiting up to {SERVER_STARTUP_S} s for it to answer)"
        )
    with prefect_server(settings) as server:
        os.environ["PREFECT_API_URL"] = server.url
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
        with bounded_shutdown(server, say), contextlib.suppress(KeyboardInterrupt):
            serve(*deployments, print_starting_message=True)
        # The runner's observers notice the server going away after serve() returned: that
        # is the shutdown we asked for, not a problem worth a traceback.
        logging.getLogger("prefect").setLevel(logging.ERROR)


@contextlib.contextmanager
def bounded_shutdown(server: PrefectServer, say: Callable[[str], None]) -> Iterator[None]:
    """Ctrl-C (SIGINT) stops serving as Prefect does, letting the flow runs in progress end;
    if the process is still here SHUTDOWN_GRACE_S seconds later (a run stuck downloading its
    code, a loaded machine), its runs and the server are stopped and it exits. Safe for the
    record: every write is one transaction, and a run stopped midway repeats nothing when
    run again (its steps' command ids)."""
    deadline = threading.Timer(SHUTDOWN_GRACE_S, _stop_now, args=(server, say))
    deadline.daemon = True

    def interrupted(signum: int, frame: FrameType | None) -> None:
        if not deadline.is_alive():
            say(
                f"stopping: flow runs in progress have {SHUTDOWN_GRACE_S} s to end, "
                "then they are stopped"
            )
            deadline.start()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        deadline.cancel()
        signal.signal(signal.SIGINT, previous)


def _stop_now(server: PrefectServer, say: Callable[[str], None]) -> None:
    say(f"flow runs still running {SHUTDOWN_GRACE_S} s after Ctrl-C: stopping them and the server")
    keep = server.process.pid if server.process else None
    for child in _children(os.getpid()):
        if child != keep:
            _kill(child)
    server.stop()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # the stop that was asked for; Prefect's own clean-up is what hung


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux's /proc; none found without it)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            after_name = stat.read_text().rsplit(")", 1)[1].split()
            if int(after_name[1]) == pid:  # fields after the name: state, ppid, ...
                found.append(int(stat.parent.name))
    return found


def _kill(pid: int) -> None:
    """A flow run Prefect started in a session of its own goes with its whole group."""
    with contextlib.suppress(OSError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)


def run_flow(
    settings: Settings,
    name: str,
    parameters: dict[str, Any],
    say: Callable[[str], None] = lambda text: None,
) -> Any:
    """Run one flow now, in this process, and return its result: on the Prefect server of a
    `kringloop serve` on this data folder if one runs (or PREFECT_API_URL), otherwise on a
    temporary one that Prefect starts for the run."""
    specs = {s.name: s for s in deployment_specs()}
    if name not in specs:
        raise KeyError(f"no flow '{name}' (flows: {', '.join(specs)})")
    os.environ.update(prefect_env(settings))
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    chosen: dict[Any, Any] = {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    url = PREFECT_API_URL.value() or running_server(settings)
    if url:
        say(f"running {name} on the Prefect server at {url}")
        chosen[PREFECT_API_URL] = url
    else:
        say(
            f"no `kringloop serve` on this data folder: Prefect starts a temporary server "
            f"for this run (waiting up to {SERVER_STARTUP_S} s for it to answer)"
        )
        chosen[PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS] = SERVER_STARTUP_S
    flow = load_flow(specs[name].entrypoint)
    with temporary_settings(chosen):
        return flow(**{**specs[name].parameters, **parameters})
