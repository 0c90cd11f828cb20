"""`privacy forget` removes what is kept beside the record while the API's follower may be
projecting the erasure decision into the same SQLite read store: a transaction that read
before that write is refused at once when it tries to write ("database is locked"), so the
removal (idempotent) is tried again. Seen once in a clean-clone run before this."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from adapters.privacy.subjects import _patiently


def busy_snapshot(path: Path) -> sqlite3.OperationalError:
    """The real refusal: read in one connection, write in another, then write in the first."""
    first = sqlite3.connect(path, isolation_level=None, timeout=0.1)
    second = sqlite3.connect(path, isolation_level=None, timeout=0.1)
    first.execute("PRAGMA journal_mode=WAL")
    first.execute("CREATE TABLE IF NOT EXISTS t (x)")
    first.execute("BEGIN")
    first.execute("SELECT COUNT(*) FROM t").fetchone()
    second.execute("INSERT INTO t VALUES (1)")
    try:
        first.execute("INSERT INTO t VALUES (2)")
    except sqlite3.OperationalError as error:
        return error
    finally:
        first.close()
        second.close()
    raise AssertionError("the second write was not refused")


def test_a_removal_refused_by_a_concurrent_write_is_tried_again(tmp_path: Path) -> None:
    refusal = busy_snapshot(tmp_path / "read.sqlite")
    attempts: list[int] = []

    def removal() -> dict[str, int]:
        attempts.append(1)
        if len(attempts) == 1:
            raise refusal
        return {"subscription": 1}

    assert _patiently(removal) == {"subscription": 1}
    assert len(attempts) == 2


def test_another_failure_is_not_tried_again() -> None:
    attempts: list[int] = []

    def removal() -> dict[str, int]:
        attempts.append(1)
        raise sqlite3.OperationalError("no such table: kringloop_subscription")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        _patiently(removal)
    assert len(attempts) == 1
