"""A real Prefect (its test harness: a temporary server on SQLite), once per session, and a
fresh Kringloop data folder for each test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from adapters.orchestration import SERVER_STARTUP_S
from domain.engine import Engine
from flows import runtime
from tests.conftest import TODAY, Run, runner


@pytest.fixture(scope="session", autouse=True)
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with (
        prefect_test_harness(server_startup_timeout=SERVER_STARTUP_S),
        temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
    ):
        yield


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The flows' data folder: a fresh SQLite event store and read store."""
    monkeypatch.setenv("KRINGLOOP_HOME", str(tmp_path))
    monkeypatch.delenv("KRINGLOOP_DATABASE_URL", raising=False)
    runtime.close()
    yield tmp_path
    runtime.close()


@pytest.fixture
def engine(home: Path) -> Engine:
    """The very engine the flows use, with the tests' fixed clock."""
    opened = runtime.engine()
    opened.clock = lambda: TODAY
    return opened


@pytest.fixture
def run(engine: Engine) -> Run:
    return runner(engine)


def close_grass(preconditions: list[dict[str, Any]]) -> Any:
    """The broker's flow: close grass's consultation (GrassFibre leads, from 2016-09-01),
    register ``preconditions``; returns the flow's result."""
    from flows.close_consultation import close_consultation

    return close_consultation(
        initiative_id="grass",
        lead="GrassFibre",
        actor="broker-anna",
        reason="best offer",
        effective=date(2016, 9, 1),
        preconditions=preconditions,
    )
