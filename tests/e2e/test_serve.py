"""`kringloop serve`: a real Prefect server process on the data folder, every deployment
served, and a clean stop on Ctrl-C that leaves no server behind."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


@pytest.mark.slow
def test_serve_runs_every_deployment_and_stops_cleanly(tmp_path: Path) -> None:
    served = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "--home", str(tmp_path), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert served.stdout is not None
    output, deadline = "", time.monotonic() + 120
    while "Prefect UI" not in output and time.monotonic() < deadline:
        line = served.stdout.readline()
        if not line and served.poll() is not None:
            break
        output += line
    found = re.search(r"http://127\.0\.0\.1:(\d+)", output.split("Prefect UI")[-1])
    assert found, output
    port = int(found.group(1))

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/deployments/filter",
        data=b"{}",
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        deployments = {d["name"]: d for d in json.load(answer)}
    assert set(deployments) == {
        "projection-catch-up",
        "scale-up-check",
        "deadlines",
        "audit-verify",
        "close-consultation",
        "form-consortium",
    }
    assert (tmp_path / "prefect" / "prefect.db").exists(), "Prefect lives in the data folder"

    served.send_signal(signal.SIGINT)
    rest, _ = served.communicate(timeout=60)
    assert served.returncode == 0
    assert "Traceback" not in output + rest
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the server was stopped"
