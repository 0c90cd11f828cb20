"""The hostile-input tests use the first-steps data folder of the API tests."""

from __future__ import annotations

from tests.api.conftest import api, first_steps, loaded_home  # noqa: F401  (shared fixtures)
