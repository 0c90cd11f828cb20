"""Rolling the whole record back, as an operator with the data folder could: put an older
backup in place and re-sign its seals with a new key. Only anchors outside the data folder
show it: a real time-stamping authority (openssl ts behind HTTP) with the anchors copied
out of the folder, and a real witness process (RELIABILITY "Tamper evidence")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_cli import as_json, kringloop
from tests.tsa import TestTSA, running_tsa
from tests.witness import RunningWitness, start_witness

pytestmark = pytest.mark.slow

ORIGIN = "kringloop.test/mra"
BASE = {
    "KRINGLOOP_SEAL_INTERVAL": "0",
    "KRINGLOOP_ANCHOR_INTERVAL": "0",
    "KRINGLOOP_LOG_ORIGIN": ORIGIN,
}


def decide(home: Path, env: dict[str, str], verb: str) -> None:
    kringloop(
        home, "initiative", verb, "timber-reuse", "--reason", verb, "--actor", "broker-bas", env=env
    )


@pytest.fixture
def record(tmp_path: Path) -> tuple[Path, str]:
    """A demo record, sealed, and its log's verifier key (for the witness)."""
    home = tmp_path / "data"
    kringloop(home, "demo", "--fresh", "--scenario", "first-steps", "--json", env=BASE)
    return home, kringloop(home, "audit", "public-key", "--note", env=BASE).stdout.strip()


@pytest.fixture
def tsa(tmp_path: Path) -> Iterator[TestTSA]:
    with running_tsa(tmp_path / "tsa") as started:
        yield started


@pytest.fixture
def witness(tmp_path: Path, record: tuple[Path, str]) -> Iterator[RunningWitness]:
    with start_witness(tmp_path / "witness", {ORIGIN: record[1]}) as started:
        yield started


def roll_back(home: Path, backup: Path, env: dict[str, str]) -> None:
    """Put the older backup in place, then throw away its key and seals and seal afresh
    with a new key: every signature in the data folder checks out again."""
    kringloop(home, "restore", str(backup), "--force", env=env, ok=False)
    (home / "audit" / "signing-key.pem").unlink()
    for folder in ("heads", "anchors"):
        for path in (home / "audit" / folder).glob("*.json"):
            path.unlink()
    kringloop(home, "audit", "verify", "--json", env=BASE)  # seals afresh, nothing to check


def verify(home: Path, env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    done = kringloop(home, "audit", "verify", "--json", env=env, ok=False)
    return done.returncode, as_json(done)


def grown_and_rolled_back(home: Path, tmp_path: Path, env: dict[str, str]) -> dict[str, Any]:
    """Anchor, back up, decide and anchor again (verify then holds every seal to the
    anchors), roll back to the backup: what verify says then."""
    kringloop(home, "audit", "anchor", env=env)
    backup = tmp_path / "before.kringloop-backup"
    kringloop(home, "backup", str(backup), env=env)
    decide(home, env, "stall")
    decide(home, env, "resume")
    code, before = verify(home, env)
    assert (code, before["verdict"]) == (0, "intact"), before["problems"]
    assert before["anchored_seals"] == before["seals"] > 1, before
    roll_back(home, backup, env)
    code, after = verify(home, env)
    assert code == 1, "a rollback fails verify"
    return after


def test_the_witness_names_a_rollback_re_signed_with_a_new_key(
    record: tuple[Path, str], witness: RunningWitness, tmp_path: Path
) -> None:
    home, _ = record
    env = {**BASE, "KRINGLOOP_WITNESS_URL": witness.url, "KRINGLOOP_WITNESS_KEY": witness.vkey}
    after = grown_and_rolled_back(home, tmp_path, env)
    assert after["verdict"] == "rolled-back"
    (problem,) = after["problems"]
    assert problem["kind"] == "rolled back"
    assert "the witness" in problem["detail"]
    assert "rolled back" in problem["detail"]

    refused = kringloop(home, "audit", "anchor", env=env, ok=False)
    assert refused.returncode == 1, "the witness co-signs nothing for the rolled-back store"

    witness.stop()  # blocking the witness hides nothing: the verdict is not intact
    code, blocked = verify(home, env)
    assert (code, blocked["verdict"]) == (1, "unanchored")
    assert "could not be asked" in blocked["problems"][0]["detail"]


def test_a_new_log_name_after_a_restore_checks_out_and_leaves_the_old_anchors_be(
    record: tuple[Path, str], witness: RunningWitness, tmp_path: Path
) -> None:
    """A restore on purpose shows as rolled back; the installation then starts a new log
    (README): verify holds the seals to the new log and leaves the earlier log's anchors."""
    home, _ = record
    env = {**BASE, "KRINGLOOP_WITNESS_URL": witness.url, "KRINGLOOP_WITNESS_KEY": witness.vkey}
    kringloop(home, "audit", "anchor", env=env)
    backup = tmp_path / "before.kringloop-backup"
    kringloop(home, "backup", str(backup), env=env)
    decide(home, env, "stall")
    restored = kringloop(home, "restore", str(backup), "--force", env=env, ok=False)
    assert restored.returncode == 1
    assert "rolled-back" in restored.stdout, restored.stdout
    renamed = {**env, "KRINGLOOP_LOG_ORIGIN": "kringloop.test/mra-2"}
    code, checked = verify(home, renamed)
    assert (code, checked["verdict"]) == (0, "intact"), checked["problems"]
    assert "anchors of an earlier log (kringloop.test/mra) left unchecked" in checked["anchor_note"]


def test_time_stamps_kept_outside_the_data_folder_name_a_rollback(
    record: tuple[Path, str], tsa: TestTSA, tmp_path: Path
) -> None:
    home, _ = record
    copy = tmp_path / "anchors-elsewhere"
    env = {
        **BASE,
        "KRINGLOOP_TSA_URL": tsa.url,
        "KRINGLOOP_TSA_CERTIFICATES": str(tsa.certificates),
        "KRINGLOOP_ANCHOR_COPY": str(copy),
    }
    after = grown_and_rolled_back(home, tmp_path, env)
    assert after["verdict"] == "rolled-back"
    details = [p["detail"] for p in after["problems"]]
    assert all("time-stamping authority" in d for d in details), details
    assert any(str(copy) in d for d in details), "named from the copy outside the folder"


def test_both_anchors_and_what_a_clean_verify_says(
    record: tuple[Path, str], tsa: TestTSA, witness: RunningWitness
) -> None:
    home, _ = record
    env = {
        **BASE,
        "KRINGLOOP_TSA_URL": tsa.url,
        "KRINGLOOP_TSA_CERTIFICATES": str(tsa.certificates),
        "KRINGLOOP_WITNESS_URL": witness.url,
        "KRINGLOOP_WITNESS_KEY": witness.vkey,
    }
    kringloop(home, "audit", "anchor", env=env)
    decide(home, env, "stall")  # sealed and anchored again after the decision
    code, checked = verify(home, env)
    assert (code, checked["verdict"]) == (0, "intact")
    assert checked["anchored_seals"] == checked["seals"]
    assert len(checked["anchored_by"]) == 2, checked["anchored_by"]
    words = kringloop(home, "audit", "verify", env=env).stdout
    assert "Anchored outside the data folder" in words


def test_an_unanchored_store_says_a_rollback_would_not_show(record: tuple[Path, str]) -> None:
    home, _ = record
    code, checked = verify(home, BASE)
    assert (code, checked["verdict"], checked["anchored_seals"]) == (0, "intact", 0)
    assert "would not show" in checked["anchor_note"]


def test_time_stamps_only_in_the_data_folder_say_they_roll_back_with_it(
    record: tuple[Path, str], tsa: TestTSA
) -> None:
    home, _ = record
    env = {
        **BASE,
        "KRINGLOOP_TSA_URL": tsa.url,
        "KRINGLOOP_TSA_CERTIFICATES": str(tsa.certificates),
    }
    kringloop(home, "audit", "anchor", env=env)
    code, checked = verify(home, env)
    assert (code, checked["verdict"]) == (0, "intact")
    assert checked["anchored_by"] == ["the time-stamping authority"]
    assert "only in the data folder" in checked["anchor_note"]


def test_a_forged_anchor_is_named(record: tuple[Path, str], tsa: TestTSA, tmp_path: Path) -> None:
    home, _ = record
    env = {
        **BASE,
        "KRINGLOOP_TSA_URL": tsa.url,
        "KRINGLOOP_TSA_CERTIFICATES": str(tsa.certificates),
    }
    kringloop(home, "audit", "anchor", env=env)
    with running_tsa(
        tmp_path / "other-tsa"
    ) as other:  # a time stamp the installation never trusted
        env_other = {**env, "KRINGLOOP_TSA_URL": other.url}
        decide(home, env_other, "stall")
    code, checked = verify(home, env)
    assert code == 1
    assert any("time stamp fails" in p["detail"] for p in checked["problems"]), checked
