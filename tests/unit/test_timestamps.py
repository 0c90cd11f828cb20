"""RFC 3161 time stamps (adapters.audit.timestamps) against a real TSA on loopback
(``openssl ts -reply``, tests.tsa), and the tokens it gives checked again by the openssl
CLI itself, so the client and the verifier are each held to something they did not make."""

from __future__ import annotations

import hashlib
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.audit.timestamps import (
    TimestampError,
    request_timestamp,
    timestamp_time,
    tsa_name,
    verify_timestamp,
)
from tests.tsa import TestTSA, answering, running_tsa, serving, start_tsa

pytestmark = pytest.mark.timeout(60)

CHECKPOINT = b"kringloop checkpoint 42 sha256:" + hashlib.sha256(b"chain head").hexdigest().encode()


@dataclass
class Stamped:
    tsa: TestTSA
    response: bytes
    bundle: bytes


@pytest.fixture(scope="module")
def stamped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stamped]:
    """One TSA for the module and one time stamp it gave on CHECKPOINT."""
    with running_tsa(tmp_path_factory.mktemp("tsa"), "Kringloop test TSA") as tsa:
        response = request_timestamp(tsa.url, CHECKPOINT)
        yield Stamped(tsa, response, tsa.certificates.read_bytes())


def test_a_time_stamp_verifies_for_its_data_at_about_now(stamped: Stamped) -> None:
    verified = verify_timestamp(stamped.response, CHECKPOINT, stamped.bundle)
    assert verified.tzinfo is not None
    assert verified.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - verified) < timedelta(minutes=1)
    assert timestamp_time(stamped.response) == verified
    assert tsa_name(stamped.response) == "Kringloop test TSA"


def test_the_time_stamp_is_not_for_other_data(stamped: Stamped) -> None:
    with pytest.raises(TimestampError, match="does not match the data"):
        verify_timestamp(stamped.response, CHECKPOINT + b" ", stamped.bundle)


def test_a_time_stamp_fails_against_another_tsas_certificates(
    stamped: Stamped, tmp_path: Path
) -> None:
    with running_tsa(tmp_path / "other", "Kringloop test TSA") as other:
        own = request_timestamp(other.url, CHECKPOINT)
        other_bundle = other.certificates.read_bytes()
        assert verify_timestamp(own, CHECKPOINT, other_bundle)  # the other TSA works
    with pytest.raises(TimestampError, match="certificate chain fails"):
        verify_timestamp(stamped.response, CHECKPOINT, other_bundle)
    with pytest.raises(TimestampError, match="certificate chain fails"):
        verify_timestamp(own, CHECKPOINT, stamped.bundle)


def test_only_a_self_signed_root_in_the_bundle_is_trusted(stamped: Stamped) -> None:
    tsa_certificate_alone = stamped.tsa.folder.joinpath("tsa.pem").read_bytes()
    with pytest.raises(TimestampError, match="no root"):
        verify_timestamp(stamped.response, CHECKPOINT, tsa_certificate_alone)
    root_alone = stamped.tsa.root.read_bytes()  # the TSA's certificate comes in the token
    assert verify_timestamp(stamped.response, CHECKPOINT, root_alone)


def test_a_flipped_byte_never_proves_another_time_or_data(stamped: Stamped) -> None:
    """Every single-byte flip either fails, or touches only what the signature does not
    cover (the CMS version numbers, the SignerInfo's signature algorithm name) and still
    proves the same time for the same data."""
    original = verify_timestamp(stamped.response, CHECKPOINT, stamped.bundle)
    failed = 0
    for at in range(len(stamped.response)):
        damaged = bytearray(stamped.response)
        damaged[at] ^= 0x01
        try:
            assert verify_timestamp(bytes(damaged), CHECKPOINT, stamped.bundle) == original
        except TimestampError:
            failed += 1
    assert failed > 0.95 * len(stamped.response)


def test_a_changed_time_or_signature_fails(stamped: Stamped) -> None:
    gen_time = timestamp_time(stamped.response).strftime("%Y%m%d%H%M%S").encode()
    at = stamped.response.index(gen_time) + len(gen_time) - 1  # the last digit of genTime
    later = bytearray(stamped.response)
    later[at] = ord("0") + (later[at] - ord("0") + 1) % 10
    with pytest.raises(TimestampError, match="signature or its certificate chain fails"):
        verify_timestamp(bytes(later), CHECKPOINT, stamped.bundle)
    assert timestamp_time(bytes(later)) != timestamp_time(stamped.response)  # unverified
    signature = bytearray(stamped.response)
    signature[-1] ^= 0x01  # the signature is the token's last field
    with pytest.raises(TimestampError, match="signature or its certificate chain fails"):
        verify_timestamp(bytes(signature), CHECKPOINT, stamped.bundle)


def test_openssl_accepts_the_stored_token(stamped: Stamped, tmp_path: Path) -> None:
    """Interop: the openssl CLI, independently of rfc3161-client, verifies what we keep."""
    (tmp_path / "token.tsr").write_bytes(stamped.response)
    (tmp_path / "checkpoint").write_bytes(CHECKPOINT)
    (tmp_path / "other").write_bytes(CHECKPOINT + b" ")

    def openssl_verify(data: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                *("openssl", "ts", "-verify", "-in", str(tmp_path / "token.tsr")),
                *("-data", str(tmp_path / data), "-CAfile", str(stamped.tsa.root)),
            ],
            capture_output=True,
            text=True,
            check=False,
        )

    accepted = openssl_verify("checkpoint")
    assert accepted.returncode == 0, accepted.stderr
    assert "Verification: OK" in accepted.stdout
    assert openssl_verify("other").returncode != 0


def test_a_tsa_refusing_sha256_is_reported_with_its_reason(tmp_path: Path) -> None:
    tsa = start_tsa(tmp_path / "sha512-only", digests="sha512")
    try:
        with pytest.raises(TimestampError, match="refused the time stamp") as refused:
            request_timestamp(tsa.url, CHECKPOINT)
    finally:
        tsa.stop()
    assert "status 2 (rejection)" in str(refused.value)
    assert "badAlg" in str(refused.value)


def test_an_unreachable_tsa(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(TimestampError, match="no answer from the time-stamping authority"):
        request_timestamp(f"http://127.0.0.1:{port}/", CHECKPOINT, timeout=5)


def test_a_tsa_answering_500() -> None:
    with (
        serving(answering(500, "text/plain", b"database on fire\n")) as url,
        pytest.raises(TimestampError, match=r"answered HTTP 500 \(database on fire\)"),
    ):
        request_timestamp(url, CHECKPOINT)


def test_a_web_page_instead_of_a_tsa() -> None:
    with (
        serving(answering(200, "text/html; charset=utf-8", b"<h1>Welcome</h1>")) as url,
        pytest.raises(TimestampError, match=r"answered text/html.*not application/timestamp-reply"),
    ):
        request_timestamp(url, CHECKPOINT)


def test_garbage_labelled_as_a_time_stamp() -> None:
    with (
        serving(answering(200, "application/timestamp-reply", b"\x30\x03garbage")) as url,
        pytest.raises(TimestampError, match="damaged or not a time stamp"),
    ):
        request_timestamp(url, CHECKPOINT)


def test_a_replayed_answer_is_not_taken(stamped: Stamped) -> None:
    """A genuine time stamp on the same data, but for another request: its nonce differs."""
    replay = answering(200, "application/timestamp-reply", stamped.response)
    with (
        serving(replay) as url,
        pytest.raises(TimestampError, match="answered another request: the nonce"),
    ):
        request_timestamp(url, CHECKPOINT)


def test_a_refusal_is_not_a_time_stamp(tmp_path: Path) -> None:
    refusal = bytes.fromhex("3009300702010203020780")  # rejection, badAlg
    with pytest.raises(TimestampError, match=r"a refusal, not a time stamp.*badAlg"):
        verify_timestamp(refusal, CHECKPOINT, b"")
    with pytest.raises(TimestampError, match="a refusal"):
        timestamp_time(refusal)
