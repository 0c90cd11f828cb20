"""The hostile-input tests use the first-steps data folder of the API tests, with the
procurement of tests/exports added, so that procurement commands reach their aggregates."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.conftest import api, load_first_steps, loaded_home  # noqa: F401  (shared fixtures)
from tests.exports.conftest import add_procurement


@pytest.fixture(scope="session")
def first_steps(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """Loaded once; each test works on its own copy (tests/api's `loaded_home`)."""
    home = tmp_path_factory.mktemp("hostile")
    tokens = load_first_steps(home)
    add_procurement(home)
    return home, tokens
