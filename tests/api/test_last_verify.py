"""The last audit verify is the installation's, not one worker's: `kringloop api --workers N`
runs N apps, and the audit page (and every page's ETag) of each shows the same last verify."""

from __future__ import annotations

from pathlib import Path

from adapters.api.audit import run_verify
from adapters.api.backend import Backend
from adapters.bootstrap import bootstrap
from adapters.settings import Settings


def test_a_verify_run_by_one_worker_is_the_last_verify_of_every_worker(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", database_url=None, log_level="warning")
    one = bootstrap(settings, logs="kept", kind=Backend)
    other = bootstrap(settings, logs="kept", kind=Backend)
    try:
        assert one.last_verify is None
        assert other.last_verify is None
        first = run_verify(one)
        assert first["checked_at"]
        assert other.last_verify == first == one.last_verify
        second = {**run_verify(other), "checked_at": "2999-01-01T00:00:00+00:00"}
        other.remember_verify(second)
        assert one.last_verify == second
        assert (settings.home / "audit" / "last-verify.json").stat().st_mode & 0o077 == 0
    finally:
        one.close()
        other.close()
