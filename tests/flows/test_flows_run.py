"""`kringloop flows run` picks its Prefect server: a running `kringloop serve`'s, found from
the data folder, or else Prefect's temporary one, given time to start on a busy machine."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    temporary_settings,
)

from adapters import orchestration
from adapters.settings import Settings


@pytest.fixture
def own_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """run_flow exports Prefect's home for the run: keep it from this test process's env."""
    monkeypatch.setattr(os, "environ", dict(os.environ))


def what_the_run_saw(monkeypatch: pytest.MonkeyPatch) -> None:
    """The flow run replaced by one that reports the Prefect settings it ran under."""

    def settings_seen(**_: Any) -> dict[str, Any]:
        return {
            "api_url": PREFECT_API_URL.value(),
            "startup_s": PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value(),
        }

    monkeypatch.setattr(orchestration, "load_flow", lambda entrypoint: settings_seen)


@pytest.mark.usefixtures("own_environment")
def test_flows_run_uses_the_server_of_a_running_serve(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serves = PREFECT_API_URL.value()  # the test harness's server stands in for serve's
    (home / "prefect").mkdir()
    (home / "prefect" / "served.json").write_text(json.dumps({"url": serves, "pid": 0}))
    what_the_run_saw(monkeypatch)
    said: list[str] = []
    with temporary_settings({PREFECT_API_URL: None}):  # no server configured otherwise
        seen = orchestration.run_flow(
            Settings(home=home), "projection-catch-up", {}, say=said.append
        )
    assert seen["api_url"] == serves
    assert said == [f"running projection-catch-up on the Prefect server at {serves}"]


@pytest.mark.usefixtures("own_environment")
def test_flows_run_gives_a_temporary_server_time_to_start(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (home / "prefect").mkdir()
    (home / "prefect" / "served.json").write_text(  # a serve that was killed: no answer
        json.dumps({"url": "http://127.0.0.1:9/api", "pid": 0})
    )
    what_the_run_saw(monkeypatch)
    said: list[str] = []
    with temporary_settings({PREFECT_API_URL: None}):
        seen = orchestration.run_flow(
            Settings(home=home), "projection-catch-up", {}, say=said.append
        )
    assert seen == {"api_url": None, "startup_s": orchestration.SERVER_STARTUP_S}
    assert orchestration.SERVER_STARTUP_S > 20, "more than Prefect's default"
    assert "Prefect starts a temporary server" in said[0]
    assert f"up to {orchestration.SERVER_STARTUP_S} s" in said[0]
