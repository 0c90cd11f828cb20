"""The first-steps data folder with some circular procurement added (three commitments with
their spend reports, one community of practice), users of each role, and the app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.commanding import apply_lines
from adapters.demo import scenario_path
from adapters.settings import Settings
from adapters.store import open_engine, open_read_store
from domain.commands.catalogue import parse_command
from projections.runner import Runner
from tests.api.conftest import api, load_first_steps, loaded_home  # noqa: F401  (shared fixtures)

PROGRAMME = "mra-circular"


def procurement_lines() -> list[dict[str, Any]]:
    """From the regional scenario: its first three commitments with their spend reports,
    and its first community of practice with everything that happens in it."""
    lines = [
        json.loads(line)
        for line in scenario_path("regional").read_text().splitlines()
        if line.strip()
    ]
    commitments = [c["commitment_id"] for c in lines if c["command"] == "commit"][:3]
    community = next(c["community_id"] for c in lines if c["command"] == "found-community")
    return [
        line
        for line in lines
        if (
            line["command"] in ("commit", "report-spend")
            and line.get("commitment_id") in commitments
        )
        or (line["command"] == "grant-role" and line.get("identity") in commitments)
        or line.get("community_id") == community
    ]


def add_procurement(home: Path) -> None:
    settings = Settings(home=home)
    engine, reads = open_engine(settings), open_read_store(settings)
    report = apply_lines(
        engine,
        (
            (n, lambda line=line: parse_command(line))
            for n, line in enumerate(procurement_lines(), start=1)
        ),
    )
    assert report.stopped is None, report.stopped
    Runner(engine, reads).catch_up()
    engine.close()
    reads.close()


@pytest.fixture(scope="session")
def first_steps(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """tests/api's first-steps data folder with the procurement added, loaded once; each test
    works on its own copy (tests/api's `loaded_home` and `api`)."""
    home = tmp_path_factory.mktemp("procured")
    tokens = load_first_steps(home)
    add_procurement(home)
    return home, tokens
