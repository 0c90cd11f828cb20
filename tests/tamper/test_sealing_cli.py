"""Seals as the record grows, from the CLI: the demo ends sealed, a decision seals without
the weekly flow, and the signing key can live outside the data folder."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_cli import as_json, kringloop

STALL = ("initiative", "stall", "timber-reuse", "--reason", "waiting", "--actor", "broker-bas")


def test_the_demo_ends_sealed_and_a_decision_seals_without_the_weekly_flow(
    tmp_path: Path,
) -> None:
    kringloop(tmp_path, "demo", "--fresh", "--scenario", "first-steps", "--json")
    after_demo = as_json(kringloop(tmp_path, "audit", "verify", "--json"))
    assert (after_demo["verdict"], after_demo["unsealed_events"]) == ("intact", 0)
    assert after_demo["sealed_events"] == after_demo["events_checked"]

    kringloop(tmp_path, *STALL)  # within a minute of the demo's seal: not sealed yet
    tail = kringloop(tmp_path, "audit", "verify")
    assert "intact-with-unsealed-tail:" in tail.stdout
    assert "not yet sealed: initiative timber-reuse" in tail.stdout

    resumed = ("initiative", "resume", "timber-reuse", "--reason", "ok", "--actor", "broker-bas")
    kringloop(tmp_path, *resumed, env={"KRINGLOOP_SEAL_INTERVAL": "0"})
    sealed = as_json(kringloop(tmp_path, "audit", "verify", "--json"))
    assert (sealed["verdict"], sealed["unsealed"]) == ("intact", []), "the decision sealed"


def test_a_signing_key_outside_the_data_folder(tmp_path: Path) -> None:
    home, keys = tmp_path / "data", tmp_path / "service"
    keys.mkdir()
    key = {"KRINGLOOP_SIGNING_KEY": str(keys / "signing-key.pem")}
    kringloop(home, "demo", "--fresh", "--scenario", "first-steps", "--json", env=key)
    assert (keys / "signing-key.pem").exists()
    assert not list(home.rglob("*.pem")), "the data folder holds no private key"
    assert list((home / "audit" / "heads").glob("*.json")), "the demo sealed with it"
    public = kringloop(home, "audit", "public-key", env=key).stdout.strip()
    assert public == (keys / "signing-key.pem.pub").read_text().strip()

    (keys / "signing-key.pem").rename(keys / "elsewhere.pem")  # as for a user without access
    no_key = {**key, "KRINGLOOP_SEAL_INTERVAL": "0"}
    stalled = kringloop(home, *STALL, env=no_key)
    assert "sealing skipped: this process cannot read the signing key" in stalled.stderr
    assert not (keys / "signing-key.pem").exists(), "no new key in its place"
    checked = as_json(kringloop(home, "audit", "verify", "--json", env=no_key))
    assert checked["verdict"] == "intact-with-unsealed-tail", "checked with the public half"
    assert checked["sealed_now"] is False
    assert [u["name"] for u in checked["unsealed"]] == ["initiative timber-reuse"]
