"""`kringloop serve`: a real Prefect server process on the data folder, every deployment
served, `flows run` using that server, and a stop on Ctrl-C within a bounded time that
leaves no server and no flow run behind."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from adapters import orchestration

STOPPED_WITHIN = orchestration.SHUTDOWN_GRACE_S + orchestration.SERVER_STOP_S


@contextmanager
def serving(home: Path) -> Iterator[subprocess.Popen[str]]:
    """`kringloop serve` on ``home``; killed, with the server it started, if the test fails
    before it stopped."""
    served = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "--home", str(home), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield served
    finally:
        if served.poll() is None:
            served.kill()
            served.wait()
        noted = home / "prefect" / "served.json"
        if noted.exists():  # serve did not get to stop its server (its own process group)
            with suppress(ProcessLookupError):
                os.killpg(json.loads(noted.read_text())["pid"], signal.SIGKILL)


def api(port: int, path: str) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/{path}",
        data=b"{}",
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


@pytest.mark.slow
def test_serve_runs_every_deployment_and_stops_cleanly(tmp_path: Path) -> None:
    with serving(tmp_path) as served:
        assert served.stdout is not None
        output, deadline = "", time.monotonic() + 180
        while "Prefect UI" not in output and time.monotonic() < deadline:
            line = served.stdout.readline()
            if not line and served.poll() is not None:
                break
            output += line
        found = re.search(r"http://127\.0\.0\.1:(\d+)", output.split("Prefect UI")[-1])
        assert found, output
        port = int(found.group(1))

        deployments = {d["name"]: d for d in api(port, "deployments/filter")}
        assert set(deployments) == {
            "projection-catch-up",
            "scale-up-check",
            "deadlines",
            "audit-verify",
            "close-consultation",
            "form-consortium",
            "deliver-notifications",
            "weekly-digest",
        }
        assert (tmp_path / "prefect" / "prefect.db").exists(), "Prefect lives in the data folder"

        kringloop = [sys.executable, "-m", "adapters.cli", "--home", str(tmp_path)]
        ran = subprocess.run(
            [*kringloop, "flows", "run", "projection-catch-up", "--json"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert ran.returncode == 0, ran.stderr
        assert f"on the Prefect server at http://127.0.0.1:{port}/api" in ran.stderr
        assert json.loads(ran.stdout)["lag"] == 0
        by_hand = [r for r in api(port, "flow_runs/filter") if r["deployment_id"] is None]
        assert [r["state_type"] for r in by_hand] == ["COMPLETED"], "the run is on serve's server"

        served.send_signal(signal.SIGINT)
        rest, _ = served.communicate(timeout=STOPPED_WITHIN + 30)
        assert served.returncode == 0
        assert "Traceback" not in output + rest
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, "the server was stopped"
        assert not (tmp_path / "prefect" / "served.json").exists()


STUCK = """
    import subprocess, sys, time
    from adapters import orchestration

    orchestration.SHUTDOWN_GRACE_S = 1
    run = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    server = orchestration.PrefectServer("http://127.0.0.1:9/api", None)
    print(run.pid, flush=True)
    with orchestration.bounded_shutdown(server, say=print):
        try:
            time.sleep(600)
        except KeyboardInterrupt:
            time.sleep(600)  # a clean-up that hangs, as Prefect's did
    print("returned normally", flush=True)
"""


def test_a_serve_whose_clean_up_hangs_still_stops_after_ctrl_c_with_its_runs() -> None:
    stuck = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(STUCK)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert stuck.stdout is not None
        run = int(stuck.stdout.readline())
        time.sleep(0.5)  # into the with block
        stuck.send_signal(signal.SIGINT)
        said, _ = stuck.communicate(timeout=60)
    finally:
        if stuck.poll() is None:
            stuck.kill()
            stuck.wait()
    assert stuck.returncode == 0
    assert "flow runs in progress have 1 s to end" in said
    assert "stopping them and the server" in said
    assert "returned normally" not in said
    assert gone(run), "the flow run was stopped"


def gone(pid: int, within: float = 10.0) -> bool:
    """Whether the process is gone, given the moment a SIGKILL takes to land (it is sent,
    not waited for: under load the process was still seen running right after)."""
    deadline = time.monotonic() + within
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


def alive(pid: int) -> bool:
    """Running, as against gone or a zombie no one has reaped yet."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def test_serves_help_says_how_long_a_stop_may_take() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = " ".join(shown.split())
    assert f"within {STOPPED_WITHIN} s" in flat
    assert f"get {orchestration.SHUTDOWN_GRACE_S} s to end" in flat
