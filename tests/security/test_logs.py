"""No secret reaches the logs: API requests (logins, bearer calls, failed logins, throttled
guesses) and CLI commands run with JSON logging at debug level, and every captured line is
searched for each token and password."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from adapters.cli.app import app as cli
from adapters.logs import configure_logging
from tests.security.conftest import Api, csrf_of, log_in
from tests.serving import answering, free_port

GUESS = "kl_wrong-guess-0123456789abcdef"
PASSWORD = "s3cret-pw-value"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Kringloop's JSON logs at debug level, and whatever else reaches the root logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    configure_logging("debug")
    ours, root = logging.getLogger("kringloop"), logging.getLogger()
    ours.addHandler(handler)
    root.addHandler(handler)
    root_level = root.level
    root.setLevel(logging.DEBUG)
    yield stream
    ours.removeHandler(handler)
    root.removeHandler(handler)
    root.setLevel(root_level)
    configure_logging("warning")


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def assert_no_secret(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret[:6]}... appears in the logs"
        assert secret.removeprefix("kl_")[:12] not in text, "not even a part of it"


def test_api_logs_hold_no_token(api: Api, captured: io.StringIO) -> None:
    log_in(api.client, api.tokens["broker-bas"])
    csrf = csrf_of(api.client.get("/pipeline").text)
    api.client.post("/logout", data={"csrf_token": csrf})
    for _ in range(7):  # failed logins, the last ones throttled
        csrf = csrf_of(api.client.get("/login").text)
        api.client.post("/login", data={"token": GUESS, "csrf_token": csrf})
    api.client.post(
        "/api/commands/stall",
        json={"initiative_id": "timber-reuse", "reason": "waiting"},
        headers=api.as_("broker-bas"),
    )
    api.client.post("/api/commands/stall", json={"reason": "x"}, headers=api.as_("audrey"))
    for _ in range(7):  # unknown bearer tokens, the last ones throttled
        api.client.get("/api/pipeline", headers={"Authorization": f"Bearer {GUESS}"})

    text = captured.getvalue()
    events = {entry["event"] for entry in json_lines(text)}
    assert {"logged in", "login refused", "login throttled", "decided", "access refused"} <= events
    assert_no_secret(text, [*api.tokens.values(), GUESS])


def test_cli_logs_hold_no_token(api: Api) -> None:
    runner = CliRunner()
    home = ["--home", str(api.home), "--log-level", "debug"]
    added = runner.invoke(
        cli, [*home, "users", "add", "dirk", "--role", "broker", "--actor", "board-secretariat"]
    )
    token = added.stdout.strip()
    assert token.startswith("kl_")
    stalled = runner.invoke(
        cli,
        [*home, "initiative", "stall", "timber-reuse", "--reason", "waiting", "--actor", "x"],
    )
    listed = runner.invoke(cli, [*home, "users", "list"])
    logs = added.stderr + stalled.stderr + listed.stderr
    assert json_lines(stalled.stderr), "the CLI logged as JSON"
    assert_no_secret(logs + listed.stdout + stalled.stdout, [token, *api.tokens.values()])


def test_a_database_password_stays_out_of_logs_and_refusals(tmp_path: Path) -> None:
    url = f"postgresql://kringloop:{PASSWORD}@127.0.0.1:1/nowhere"  # nothing listens there
    done = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "--log-level", "debug", "initiative", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "KRINGLOOP_HOME": str(tmp_path), "KRINGLOOP_DATABASE_URL": url},
    )
    assert done.returncode == 1
    assert "cannot open the event store" in done.stderr
    assert PASSWORD not in done.stdout + done.stderr


@pytest.mark.slow
def test_a_served_api_logs_no_token(api: Api) -> None:
    """`kringloop api` as a process, uvicorn's access log included."""
    port = free_port()
    command = [sys.executable, "-m", "adapters.cli", "--home", str(api.home)]
    server = subprocess.Popen(
        [*command, "--log-level", "debug", "api", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("KRINGLOOP_")},
    )
    try:
        base = answering(server, port)
        with httpx.Client(base_url=base, timeout=10) as browser:
            csrf = csrf_of(browser.get("/login").text)
            browser.post("/login", data={"token": api.tokens["audrey"], "csrf_token": csrf})
            assert browser.get("/pipeline").status_code == 200
            csrf = csrf_of(browser.get("/login").text)
            browser.post("/login", data={"token": GUESS, "csrf_token": csrf})
            bearer = {"Authorization": f"Bearer {api.tokens['broker-bas']}"}
            assert browser.get("/api/pipeline", headers=bearer).status_code == 200
            browser.get("/api/pipeline", headers={"Authorization": f"Bearer {GUESS}"})
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    logs = out + err  # uvicorn writes its access log to stdout
    assert '"GET /api/pipeline HTTP/1.1" 200' in logs, "uvicorn's access log was captured"
    assert "login refused" in logs
    assert_no_secret(logs, [*api.tokens.values(), GUESS])
