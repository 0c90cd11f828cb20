"""`kringloop publish`: the public decision log under the Woo, as a programme publishes it
and as anyone checks it: real processes on the first-steps demo, the files as written."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.audit.keys import PREFIX
from adapters.publication import TITLES, progress_record
from adapters.settings import Settings
from adapters.store import open_read_store
from projections.progress import programme_progress
from tests.e2e.test_cli import as_json, kringloop

PROGRAMME = "mra-circular"
IDENTITIES = ("broker-anna", "broker-bas", "board-secretariat")
DIWOO = {"identifier", "titel", "datum", "informatiecategorie", "verantwoordelijke"}


def demo(home: Path) -> None:
    kringloop(home, "demo", "--fresh", "--scenario", "first-steps", "--json")


def publish(home: Path, out: Path) -> dict[str, Any]:
    done: dict[str, Any] = as_json(kringloop(home, "publish", "--out", str(out), "--json"))
    return done


def decisions(out: Path) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads((out / "besluiten.json").read_text())["besluiten"]
    return found


def measure_jobs(home: Path) -> None:
    """A programme decision recorded after a first publication: a target measured."""
    kringloop(
        home, "programme", "record-target-measurement", PROGRAMME, "--key", "new-jobs",
        "--value", "40", "--source", "regional jobs monitor", "--actor", "board-secretariat",
        "--reason", "Jobs monitor published", "--effective", "2020-06-30",
    )  # fmt: skip


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    home = tmp_path_factory.mktemp("publish")
    demo(home)
    out = home / "woo"
    return home, out, publish(home, out)


def test_publishing_writes_every_file_and_they_check_offline(
    published: tuple[Path, Path, dict[str, Any]],
) -> None:
    home, out, done = published
    assert sorted(p.name for p in out.iterdir()) == sorted(done["files"])
    assert done["added"] == done["total"] == len(decisions(out)) > 0
    checked = as_json(kringloop(home, "publish", "check", str(out), "--json"))
    assert checked == {"ok": True, "public_key_from": "manifest", "problems": []}
    key = kringloop(home, "audit", "public-key").stdout.strip()
    with_key = kringloop(home, "publish", "check", str(out), "--public-key", key)
    assert "valid" in with_key.stdout


def test_no_person_and_no_evidence_is_published(
    published: tuple[Path, Path, dict[str, Any]],
) -> None:
    home, out, _ = published
    log = as_json(kringloop(home, "decisions", "--json", "--limit", "100000"))
    evidence = {e for entry in log for e in entry["evidence"]}
    assert evidence, "the demo's decisions carry evidence to leave out"
    for path in out.iterdir():
        text = path.read_text(encoding="utf-8")
        for secret in (*IDENTITIES, *evidence):
            assert secret not in text, f"{secret} in {path.name}"


def test_the_records_carry_the_diwoo_fields_and_the_csv_opens_the_dutch_way(
    published: tuple[Path, Path, dict[str, Any]],
) -> None:
    _, out, _ = published
    records = decisions(out)
    assert all(set(r) >= DIWOO for r in records)
    titles = {r["titel"] for r in records}
    assert any(t.startswith("Consortium gevormd: ") for t in titles)
    assert any(t.startswith("Board trekt zich terug: ") for t in titles)
    said = {t.split(": ")[0] for t in titles}
    assert said <= set(TITLES.values()), f"every title in Dutch: {said - set(TITLES.values())}"
    assert {r["informatiecategorie"] for r in records} == {
        "Overige besluiten van algemene strekking"
    }
    raw = (out / "besluiten.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [
        "identifier",
        "titel",
        "datum",
        "informatiecategorie",
        "verantwoordelijke",
        "onderwerp",
        "toelichting",
        "gepubliceerd_op",
    ]
    assert [row[0] for row in rows[1:]] == [r["identifier"] for r in records]
    page = (out / "index.html").read_text()
    assert '<html lang="nl">' in page
    assert '<th scope="col">' in page
    assert "<caption>" in page
    assert re.search(
        r"<td>\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|"
        r"september|oktober|november|december) \d{4}</td>",
        page,
    ), "Dutch dates"
    for external in ("<script", "<link", "src=", "url("):
        assert external not in page


def test_the_progress_figures_are_the_projections_own(
    published: tuple[Path, Path, dict[str, Any]],
) -> None:
    home, out, _ = published
    reads = open_read_store(Settings(home=home))
    try:
        expected = [progress_record(t) for t in programme_progress(reads, PROGRAMME)]
    finally:
        reads.close()
    written = json.loads((out / "voortgang.json").read_text())
    assert written["doelen"] == expected
    assert any(t["huidige_waarde"] not in (None, 0) for t in written["doelen"])
    rows = list(
        csv.reader(io.StringIO((out / "voortgang.csv").read_text("utf-8-sig")), delimiter=";")
    )
    assert rows[0][:3] == ["sleutel", "omschrijving", "eenheid"]
    assert len(rows) == len(expected) + 1


def test_publishing_again_adds_only_the_new_public_decision(tmp_path: Path) -> None:
    demo(tmp_path)
    out = tmp_path / "woo"
    first = publish(tmp_path, out)
    before = decisions(out)
    assert publish(tmp_path, out)["added"] == 0
    assert decisions(out) == before
    measure_jobs(tmp_path)
    third = publish(tmp_path, out)
    assert (third["added"], third["total"]) == (1, first["total"] + 1)
    after = decisions(out)
    assert after[: len(before)] == before  # gepubliceerd_op included
    assert after[-1]["titel"].startswith("Meting van een doel vastgelegd: ")
    assert after[-1]["datum"] == "2020-06-30"
    assert kringloop(tmp_path, "publish", "check", str(out)).returncode == 0


def test_a_changed_byte_or_another_key_fails_the_check(
    published: tuple[Path, Path, dict[str, Any]], tmp_path: Path
) -> None:
    home, out, _ = published
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    data = bytearray((copy / "besluiten.json").read_bytes())
    data[200] ^= 1
    (copy / "besluiten.json").write_bytes(bytes(data))
    failed = kringloop(home, "publish", "check", str(copy), ok=False)
    assert failed.returncode == 1
    assert "besluiten.json: differs from what was signed" in failed.stderr
    carried = kringloop(home, "publish", "--out", str(copy), ok=False)
    assert carried.returncode == 1
    assert "besluiten.json: differs from what was signed" in carried.stderr

    raw = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    other = PREFIX + base64.b64encode(raw).decode()
    wrong = kringloop(home, "publish", "check", str(out), "--public-key", other, ok=False)
    assert wrong.returncode == 1
    assert "manifest.json: the signature does not match this public key" in wrong.stderr


MANAGER = "board-secretariat"
DEFAULT_KINDS = ["initiative:BoardWithdrew", "initiative:ConsortiumFormed", "programme:*"]
DECIDED_ON = "2024-01-31"


def set_publication(home: Path, *kinds: str, actor: str = MANAGER, ok: bool = True) -> Any:
    marked = [arg for kind in kinds for arg in ("--kinds", kind)]
    return kringloop(
        home,
        "programme",
        "set-publication",
        PROGRAMME,
        *marked,
        "--actor",
        actor,
        "--reason",
        "The Board decides what the programme publishes actively",
        "--effective",
        DECIDED_ON,
        "--json",
        ok=ok,
    )


def manifest(out: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((out / "manifest.json").read_text())
    return found


def kinds_in_force(home: Path) -> dict[str, Any]:
    found: dict[str, Any] = as_json(kringloop(home, "publish", "kinds", "--json"))
    return found


def test_until_the_programme_decides_the_default_kinds_apply_and_the_folder_says_so(
    published: tuple[Path, Path, dict[str, Any]],
) -> None:
    home, out, _ = published
    listed = kinds_in_force(home)
    assert (listed["decided"], listed["decided_by"]) == (False, None)
    assert [k["kind"] for k in listed["kinds"]] == DEFAULT_KINDS
    assert {k["title"] for k in listed["kinds"]} >= {"Consortium gevormd"}
    assert manifest(out)["public_kinds"] == {"kinds": DEFAULT_KINDS, "decided_by": None}
    assert "de standaardkeuze" in (out / "index.html").read_text()


def test_marking_a_kind_public_adds_its_decisions_at_the_next_run(tmp_path: Path) -> None:
    demo(tmp_path)
    out = tmp_path / "woo"
    first = publish(tmp_path, out)
    before = decisions(out)
    log = as_json(kringloop(tmp_path, "decisions", "--json", "--limit", "100000"))
    scans = [e for e in log if e["event"] == "ExpertScanCompleted"]
    assert scans, "the demo completes expert scans"

    decided = as_json(set_publication(tmp_path, *DEFAULT_KINDS, "initiative:ExpertScanCompleted"))
    second = publish(tmp_path, out)

    # the expert scans, and the decision itself (a programme decision, public)
    assert (second["added"], second["total"]) == (len(scans) + 1, first["total"] + len(scans) + 1)
    after = decisions(out)
    assert after[: len(before)] == before  # published entries stay as they were
    added = {r["titel"].split(": ")[0] for r in after[len(before) :]}
    assert added == {"Expertonderzoek afgerond", "Openbaar te maken besluiten vastgesteld"}
    by_whom = {"command_id": decided["command_id"], "effective": DECIDED_ON}
    assert manifest(out)["public_kinds"]["decided_by"] == by_whom
    assert "initiative:ExpertScanCompleted" in manifest(out)["public_kinds"]["kinds"]
    assert f"(besluit {decided['command_id']})" in (out / "index.html").read_text()
    listed = kinds_in_force(tmp_path)
    assert (listed["decided"], listed["decided_by"]) == (True, by_whom)
    assert publish(tmp_path, out)["added"] == 0
    assert kringloop(tmp_path, "publish", "check", str(out)).returncode == 0


def test_a_withdrawn_kind_stays_published_and_adds_nothing_new(tmp_path: Path) -> None:
    demo(tmp_path)
    out = tmp_path / "woo"
    publish(tmp_path, out)
    before = decisions(out)
    assert any(r["onderwerp"] == PROGRAMME for r in before)

    set_publication(tmp_path, "initiative:ConsortiumFormed", "initiative:BoardWithdrew")
    measure_jobs(tmp_path)
    withdrawn = publish(tmp_path, out)

    assert (withdrawn["added"], withdrawn["total"]) == (0, len(before))
    assert decisions(out) == before  # the programme's decisions published before stay
    assert "programme:*" not in manifest(out)["public_kinds"]["kinds"]
    assert kringloop(tmp_path, "publish", "check", str(out)).returncode == 0

    set_publication(tmp_path, *DEFAULT_KINDS)
    again = publish(tmp_path, out)
    # marked public again: the measurement and both decisions on publication come out
    assert again["added"] == 3
    assert decisions(out)[: len(before)] == before


def test_a_broker_may_not_decide_what_is_published(tmp_path: Path) -> None:
    demo(tmp_path)
    refused = set_publication(tmp_path, "initiative:*", actor="broker-anna", ok=False)
    assert refused.returncode == 1
    assert as_json(refused)["code"] == "no_authority"
    assert "'broker-anna' holds no role manager" in as_json(refused)["message"]
    assert kinds_in_force(tmp_path)["decided"] is False


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("authority:RoleGranted", "decisions are about persons"),
        ("initiative:Invented", "initiative has no decision 'Invented' (it has: Abandoned, "),
        ("board", "write a kind of record and a decision, as in initiative:ConsortiumFormed"),
        ("initiative:", "write a kind of record and a decision"),
    ],
)
def test_a_kind_that_does_not_exist_or_is_about_persons_is_refused_in_words(
    published: tuple[Path, Path, dict[str, Any]], kind: str, said: str
) -> None:
    home, _, _ = published
    refused = set_publication(home, kind, ok=False)
    assert refused.returncode == 1
    assert said in as_json(refused)["message"]
    assert kinds_in_force(home)["decided"] is False


def test_with_every_kind_public_still_no_person_and_no_evidence_is_published(
    tmp_path: Path,
) -> None:
    demo(tmp_path)
    set_publication(tmp_path, "programme:*", "initiative:*", "commitment:*", "community:*")
    out = tmp_path / "woo"
    done = publish(tmp_path, out)
    log = as_json(kringloop(tmp_path, "decisions", "--json", "--limit", "100000"))
    public = [e for e in log if e["programme_id"] == PROGRAMME and e["subject_kind"] != "authority"]
    assert done["total"] == len(public)
    persons = {e["actor"] for e in log} | {e["recorded_by"] for e in log}
    evidence = {e for entry in log for e in entry["evidence"]}
    assert set(IDENTITIES) <= persons
    for path in out.iterdir():
        text = path.read_text(encoding="utf-8")
        for secret in (*persons, *evidence):
            assert secret not in text, f"{secret} in {path.name}"


def test_the_published_folder_and_files_are_readable_by_a_web_server(
    published: tuple[Path, Path, dict[str, Any]],
) -> None:
    _, out, _ = published  # written by the CLI, whose umask keeps its own files private
    assert out.stat().st_mode & 0o777 == 0o755
    modes = {p.name: p.stat().st_mode & 0o777 for p in out.iterdir()}
    assert modes == dict.fromkeys(modes, 0o644)
    assert len(modes) == len(published[2]["files"])


def test_each_member_target_and_stream_is_told_apart_by_its_title(tmp_path: Path) -> None:
    demo(tmp_path)
    members = ("Gemeente Haarlem", "Gemeente Zaanstad")
    for organisation in members:
        kringloop(
            tmp_path, "programme", "add-member", PROGRAMME, "--organisation", organisation,
            "--organisation-kind", "municipality", "--actor", MANAGER, "--reason", "joined",
        )  # fmt: skip
    out = tmp_path / "woo"
    publish(tmp_path, out)
    records = decisions(out)
    log = as_json(kringloop(tmp_path, "decisions", "--json", "--limit", "100000"))
    targets = [e["details"]["key"] for e in log if e["event"] == "TargetSet"]
    streams = [e["details"]["stream"] for e in log if e["event"] == "StreamRegistered"]
    assert len(targets) > 1
    assert len(streams) > 1
    for words, named in (
        ("Lid toegevoegd", members),
        ("Doel vastgesteld", targets),
        ("Materiaalstroom geregistreerd", streams),
    ):
        titles = [r["titel"] for r in records if r["titel"].startswith(f"{words}: ")]
        assert len(titles) == len(named)
        assert len(set(titles)) == len(titles), f"{words}: titles alike"
        assert all(any(t.startswith(f"{words}: {n}") for t in titles) for n in named)


def test_a_folder_that_cannot_be_written_is_said_in_one_line(tmp_path: Path) -> None:
    demo(tmp_path)
    refused = kringloop(tmp_path, "publish", "--out", "/proc/woo", ok=False)
    assert refused.returncode == 1
    assert "cannot write to /proc/woo" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
