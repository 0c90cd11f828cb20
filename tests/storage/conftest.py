"""Fixtures of the storage tests: stores on SQLite and PostgreSQL, and a disk that fills."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.settings import Settings

MakeSettings = Callable[[str], Settings]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_settings(request: pytest.FixtureRequest, tmp_path: Path) -> MakeSettings:
    """Settings of a fresh, empty store of a kind: a data folder, and for PostgreSQL a pair
    of schemas of their own in the session's test database."""

    def make(kind: str) -> Settings:
        suffix = uuid.uuid4().hex[:10]
        home = tmp_path / f"{kind}-{suffix}"
        if kind == "sqlite":
            return Settings(home=home)
        return Settings(
            home=home,
            database_url=request.getfixturevalue("postgres_url"),
            database_schema=f"ev_{suffix}",
            read_schema=f"rd_{suffix}",
        )

    return make


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 4 MiB disk (tmpfs, mounted for the test: we run as root), to fill."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        # Not a part .ci/run can install: mounting is the kernel's permission (root, or
        # CAP_SYS_ADMIN in a container). So this skips, under CI too, and says why.
        pytest.skip(
            f"a full disk needs a small tmpfs mounted, not permitted here "
            f"({done.stderr.strip() or done.returncode})"
        )
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], capture_output=True, check=False).returncode:
            subprocess.run(["umount", "-l", str(mount)], check=False)
