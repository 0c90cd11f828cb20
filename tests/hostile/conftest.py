"""The hostile-input tests use the first-steps data folder of the API tests, with the
procurement of tests/exports added, so that procurement commands reach their aggregates."""

from tests.api.conftest import api, loaded_home  # noqa: F401  (shared fixtures)
from tests.exports.conftest import first_steps  # noqa: F401  (shared fixtures)
