"""The data folder is the owner's only: 0700, and every file in it 0600 (the event store,
the read store with the users table, SQLite's -wal and -shm, the session key, the signing
key, the seals), and so are backups and exports. Before, everything was created with the
process's umask (0644 files, 0755 folders: readable by every local user)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from adapters.api.app import create_app
from adapters.settings import Settings
from tests.security.conftest import csrf_of


def kringloop(home: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a real process with the usual umask, 022."""
    done = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "--home", str(home), *arguments],
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if not k.startswith("KRINGLOOP_")},
        preexec_fn=lambda: os.umask(0o022),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def loose(path: Path) -> list[str]:
    """Everything under ``path`` (itself included) that group or others may touch."""
    found = []
    for item in [path, *path.rglob("*")]:
        mode = stat.S_IMODE(item.lstat().st_mode)
        wanted = 0o700 if item.is_dir() else 0o600
        if mode & 0o077 or (item.is_dir() and mode != wanted):
            found.append(f"{item.relative_to(path.parent)}: {oct(mode)}")
    return found


def test_the_cli_keeps_the_data_folder_to_its_owner(tmp_path: Path) -> None:
    home = tmp_path / "data"
    kringloop(home, "demo", "--fresh")
    kringloop(home, "users", "add", "audrey", "--role", "auditor", "--actor", "board-secretariat")
    kringloop(home, "audit", "verify")  # writes the signing key and a seal
    kringloop(home, "audit", "export", "--all", "--out", str(tmp_path / "all.jsonl"))
    kringloop(home, "backup", str(tmp_path / "data.backup"))
    names = {p.name for p in home.rglob("*")}
    assert {"events.sqlite", "read.sqlite", "signing-key.pem", "heads"} <= names, names
    assert loose(home) == []
    assert loose(tmp_path / "all.jsonl") == []
    assert loose(tmp_path / "data.backup") == []


def test_an_existing_open_data_folder_is_closed(tmp_path: Path) -> None:
    home = tmp_path / "data"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    kringloop(home, "demo", "--fresh")
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_the_api_keeps_the_data_folder_to_its_owner(tmp_path: Path) -> None:
    home = tmp_path / "api-data"
    kringloop(home, "users", "add", "audrey", "--role", "auditor", "--actor", "board-secretariat")
    token = kringloop(
        home, "users", "add", "maria", "--role", "manager", "--actor", "board-secretariat"
    ).stdout.strip()
    old = os.umask(0o022)
    try:
        with TestClient(create_app(Settings(home=home))) as client:
            csrf = csrf_of(client.get("/login").text)
            client.post("/login", data={"token": token, "csrf_token": csrf})
            headers = {"Authorization": f"Bearer {token}"}
            assert client.post("/api/audit/verify", headers=headers).status_code == 200
            assert client.get("/api/audit/export", headers=headers).status_code == 200
            assert loose(home) == []
    finally:
        os.umask(old)
