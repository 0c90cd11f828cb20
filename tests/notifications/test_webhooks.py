"""Webhook notices (adapters.notifications.webhooks): the signature as the Standard Webhooks
spec defines it, held to the vector its reference libraries test against, and delivery to
a real receiver on loopback (tests.receiver) that checks every request as a receiver of
our notices would: accepted, refused, failing, down, redirecting, never answering."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import requests

from adapters.notifications import webhooks
from adapters.notifications.mail import DeliveryFailed
from adapters.notifications.webhooks import WebhookRejected, signature, verify
from tests.receiver import running_receiver
from tests.tsa import Answering, answering, serving

# The vector every reference library of the standard tests its signing against
# (github.com/standard-webhooks/standard-webhooks, libraries/python/tests/test_webhooks.py
# test_sign_function; the same in the Go, JavaScript, PHP, Java and C# libraries' tests).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
# the same libraries' "invalid signature": the vector's with its last character changed
VECTOR_WRONG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="

NOTICE = {"type": "check.due", "programme": "Zuid-Holland circulair", "note": "één"}


def _vector_headers(signatures: str = VECTOR_SIGNATURE) -> dict[str, str]:
    return {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": signatures,
    }


def test_the_signature_is_the_standards_vector() -> None:
    assert signature(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_the_secret_may_come_without_its_prefix() -> None:
    bare = VECTOR_SECRET.removeprefix("whsec_")
    assert signature(bare, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_verify_accepts_the_vector() -> None:
    verify(VECTOR_SECRET, _vector_headers(), VECTOR_BODY, now=VECTOR_TIMESTAMP)


def test_verify_accepts_any_matching_v1_among_several() -> None:
    """A sender rotating its secret sends two; other versions and junk are passed over."""
    offered = f"v1a,AAAA v1,{VECTOR_WRONG[3:]} junk v2,{VECTOR_SIGNATURE[3:]} {VECTOR_SIGNATURE}"
    verify(VECTOR_SECRET, _vector_headers(offered), VECTOR_BODY, now=VECTOR_TIMESTAMP)


def test_header_names_are_read_in_any_case() -> None:
    headers = {name.title(): value for name, value in _vector_headers().items()}
    verify(VECTOR_SECRET, headers, VECTOR_BODY, now=VECTOR_TIMESTAMP)


@pytest.mark.parametrize(
    ("change", "because"),
    [
        ({"webhook-signature": VECTOR_WRONG}, "no webhook-signature matches"),
        ({"webhook-signature": VECTOR_SIGNATURE.replace("v1,", "v2,")}, "no webhook-signature"),
        ({"webhook-signature": "v1,not base64!"}, "no webhook-signature matches"),
        ({"webhook-id": "msg_other"}, "no webhook-signature matches"),
        ({"webhook-timestamp": str(VECTOR_TIMESTAMP + 1)}, "no webhook-signature matches"),
        ({"webhook-timestamp": "+1614265330"}, "not unix seconds"),
        ({"webhook-id": ""}, "no webhook-id header"),
        ({"webhook-signature": ""}, "no webhook-signature header"),
    ],
)
def test_verify_rejects_a_changed_header(change: dict[str, str], because: str) -> None:
    with pytest.raises(WebhookRejected, match=because):
        verify(VECTOR_SECRET, _vector_headers() | change, VECTOR_BODY, now=VECTOR_TIMESTAMP)


def test_verify_rejects_a_changed_body() -> None:
    with pytest.raises(WebhookRejected, match="no webhook-signature matches"):
        verify(VECTOR_SECRET, _vector_headers(), b'{"test":2432232314}', now=VECTOR_TIMESTAMP)


def test_verify_rejects_another_secret() -> None:
    with pytest.raises(WebhookRejected, match="no webhook-signature matches"):
        verify(webhooks.new_secret(), _vector_headers(), VECTOR_BODY, now=VECTOR_TIMESTAMP)


@pytest.mark.parametrize(
    ("now", "because"),
    [(VECTOR_TIMESTAMP + 301, "301 s old"), (VECTOR_TIMESTAMP - 301, "301 s ahead")],
)
def test_verify_rejects_a_timestamp_outside_the_tolerance(now: int, because: str) -> None:
    with pytest.raises(WebhookRejected, match=because):
        verify(VECTOR_SECRET, _vector_headers(), VECTOR_BODY, now=now)


def test_verify_accepts_a_timestamp_at_the_edge_of_the_tolerance() -> None:
    for now in (VECTOR_TIMESTAMP - 300, VECTOR_TIMESTAMP + 300):
        verify(VECTOR_SECRET, _vector_headers(), VECTOR_BODY, now=now)


def test_the_tolerance_is_the_callers() -> None:
    verify(
        VECTOR_SECRET, _vector_headers(), VECTOR_BODY, tolerance=3600, now=VECTOR_TIMESTAMP + 3600
    )
    with pytest.raises(WebhookRejected, match="61 s old"):
        verify(
            VECTOR_SECRET, _vector_headers(), VECTOR_BODY, tolerance=60, now=VECTOR_TIMESTAMP + 61
        )


def test_a_new_secret_is_32_random_bytes_that_sign() -> None:
    first, second = webhooks.new_secret(), webhooks.new_secret()
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 32
    assert first != second
    signed = signature(first, "ntc_1", 1700000000, b"{}")
    headers = {
        "webhook-id": "ntc_1",
        "webhook-timestamp": "1700000000",
        "webhook-signature": signed,
    }
    verify(first, headers, b"{}", now=1700000000)
    with pytest.raises(WebhookRejected):
        verify(second, headers, b"{}", now=1700000000)


@pytest.mark.parametrize("encoded", ["c2hvcnQ=", "QUFB" * 30, "not base64!"])
def test_a_secret_that_is_none_is_refused_without_being_repeated(encoded: str) -> None:
    """Not a key of 24 to 64 bytes (the standard's bounds) in base64: a configuration
    error, not a rejected request, and the message does not echo it."""
    with pytest.raises(ValueError, match="webhook secret") as refused:
        signature("whsec_" + encoded, "ntc_1", 1700000000, b"{}")
    assert encoded not in str(refused.value)


def test_an_id_with_a_full_stop_is_refused() -> None:
    """The standard's rule: it would blur where the id ends and the timestamp begins."""
    with pytest.raises(ValueError, match=r"holds no '\.'"):
        signature(VECTOR_SECRET, "ntc.1", VECTOR_TIMESTAMP, VECTOR_BODY)


def test_a_post_is_received_once_with_its_id_and_notice() -> None:
    secret = webhooks.new_secret()
    with running_receiver(secret) as receiver:
        webhooks.post(receiver.url, secret, "ntc_01HZX", NOTICE)
        assert receiver.received == [("ntc_01HZX", NOTICE)]
        assert receiver.attempts == 1
        assert receiver.rejected == []


def test_a_post_is_compact_sorted_utf8_json_signed_over_those_bytes() -> None:
    """What goes on the wire, seen by a bare server that keeps the request."""
    kept: list[tuple[dict[str, str], bytes]] = []

    class Keeping(Answering):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            kept.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.answer(204, "text/plain", b"")

    secret = webhooks.new_secret()
    with serving(Keeping) as url:
        webhooks.post(url, secret, "ntc_2", {"z": 1, "a": ["één", 2.5]}, now=1700000000)
    [(headers, body)] = kept
    assert body == '{"a":["één",2.5],"z":1}'.encode()
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "Kringloop"
    assert headers["webhook-id"] == "ntc_2"
    assert headers["webhook-timestamp"] == "1700000000"
    assert headers["webhook-signature"] == signature(secret, "ntc_2", 1700000000, body)


def test_a_post_signed_with_another_secret_is_refused_and_fails() -> None:
    secret, wrong = webhooks.new_secret(), webhooks.new_secret()
    with running_receiver(secret) as receiver:
        with pytest.raises(DeliveryFailed, match="401") as failed:
            webhooks.post(receiver.url, wrong, "ntc_3", NOTICE)
        assert receiver.received == []
        assert receiver.rejected == [
            "no webhook-signature matches this body signed with the secret"
        ]
    assert wrong not in str(failed.value)
    assert wrong.removeprefix("whsec_") not in str(failed.value)


def test_a_post_with_an_old_timestamp_is_refused_and_fails() -> None:
    """A replay, as the receiver sees one: signed well, but an hour ago."""
    secret = webhooks.new_secret()
    with running_receiver(secret) as receiver:
        with pytest.raises(DeliveryFailed, match=r"401.*s old, over 300 s"):
            webhooks.post(receiver.url, secret, "ntc_4", NOTICE, now=int(time.time()) - 3600)
        assert receiver.received == []


def test_retries_after_failures_deliver_once_under_one_id() -> None:
    secret = webhooks.new_secret()
    with running_receiver(secret, fail_first=2) as receiver:
        for _ in range(2):
            with pytest.raises(DeliveryFailed, match="500"):
                webhooks.post(receiver.url, secret, "ntc_5", NOTICE)
        webhooks.post(receiver.url, secret, "ntc_5", NOTICE)
        assert receiver.seen == ["ntc_5", "ntc_5", "ntc_5"]
        assert receiver.attempts == 3
        assert receiver.received == [("ntc_5", NOTICE)]


def test_a_receiver_that_is_down_fails_at_once_and_later_receives() -> None:
    """Refused, not waited for: the cause is a refused connection, not a timeout."""
    secret = webhooks.new_secret()
    with running_receiver(secret) as receiver:
        receiver.down()
        with pytest.raises(DeliveryFailed, match="no answer from") as failed:
            webhooks.post(receiver.url, secret, "ntc_6", NOTICE, timeout=30)
        assert isinstance(failed.value.__cause__, requests.ConnectionError)
        assert not isinstance(failed.value.__cause__, requests.Timeout)
        assert secret.removeprefix("whsec_") not in str(failed.value)
        receiver.up()
        webhooks.post(receiver.url, secret, "ntc_6", NOTICE)
        assert receiver.received == [("ntc_6", NOTICE)]


def test_a_redirect_is_a_failure_and_not_followed() -> None:
    """A 307 keeps the method and body: followed, it would deliver to the receiver."""
    secret = webhooks.new_secret()
    with running_receiver(secret) as receiver:

        class Redirecting(Answering):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(307)
                self.send_header("Location", receiver.url)
                self.send_header("Content-Length", "0")
                self.end_headers()

        refused = pytest.raises(DeliveryFailed, match=r"307.*redirect to .*not followed")
        with serving(Redirecting) as url, refused:
            webhooks.post(url, secret, "ntc_7", NOTICE)
        assert receiver.attempts == 0


def test_a_failure_quotes_the_first_200_characters_of_the_answer() -> None:
    answer = ("x" * 199 + "y" + "z" * 800).encode()
    failing = serving(answering(503, "text/plain", answer))
    with failing as url, pytest.raises(DeliveryFailed, match="503") as failed:
        webhooks.post(url, webhooks.new_secret(), "ntc_8", NOTICE)
    assert str(failed.value).endswith("x" * 199 + "y'")


@contextmanager
def _silent() -> Iterator[str]:
    """A server that takes the request and does not answer (until the block ends)."""
    release = threading.Event()

    class Silent(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            release.wait(timeout=30)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    with serving(Silent) as url:
        try:
            yield url
        finally:
            release.set()


def test_no_answer_within_the_timeout_fails() -> None:
    with _silent() as url, pytest.raises(DeliveryFailed, match="no answer from") as failed:
        webhooks.post(url, webhooks.new_secret(), "ntc_9", NOTICE, timeout=0.5)
    assert isinstance(failed.value.__cause__, requests.Timeout)


@pytest.mark.parametrize(("status", "permanent"), [(410, True), (500, False), (404, False)])
def test_only_gone_is_a_permanent_refusal(status: int, permanent: bool) -> None:
    """410 Gone: the standard's word for 'stop sending here'; the rest may mend."""
    failing = serving(answering(status, "text/plain", b"no"))
    with failing as url, pytest.raises(DeliveryFailed, match=str(status)) as failed:
        webhooks.post(url, webhooks.new_secret(), "ntc_10", NOTICE)
    assert failed.value.permanent is permanent


@pytest.mark.parametrize("address", ["receiver.example/hooks", "ftp://127.0.0.1/hooks"])
def test_an_address_that_is_no_http_url_fails_for_good(address: str) -> None:
    with pytest.raises(DeliveryFailed) as failed:
        webhooks.post(address, webhooks.new_secret(), "ntc_11", NOTICE)
    assert failed.value.permanent


def test_a_secret_that_is_none_fails_for_good_without_being_repeated() -> None:
    with pytest.raises(DeliveryFailed, match="webhook secret") as failed:
        webhooks.post("http://127.0.0.1:9/", "whsec_c2hvcnQ=", "ntc_12", NOTICE)
    assert failed.value.permanent
    assert "c2hvcnQ" not in str(failed.value)


def test_no_webhook_goes_to_a_link_local_address() -> None:
    """The cloud's metadata service (169.254.169.254) and other link-local or reserved
    addresses are never receivers: refused when subscribing and when sending."""
    from adapters.notifications.store import url_ok

    for url in (
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/hook",
        "http://0.0.0.0/",
    ):
        assert webhooks.forbidden_target(url) is not None, url
        assert not url_ok(url), url
        with pytest.raises(DeliveryFailed) as failed:
            webhooks.post(url, webhooks.new_secret(), "msg_1", {"x": 1})
        assert failed.value.permanent
    assert webhooks.forbidden_target("http://127.0.0.1:8000/hook") is None, "an intranet's may"


def test_the_readme_s_receiver_check_accepts_our_webhooks_and_no_other() -> None:
    """The README shows receivers a check with the standard library only: it holds."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    found = re.search(r"```python\n(import base64.*?)```", readme, re.S)
    assert found is not None, "the README's receiver example"
    example: dict[str, Any] = {}
    exec(found.group(1), example)
    secret, stamp, body = webhooks.new_secret(), int(time.time()), b'{"type": "stalled"}'
    headers = {
        "webhook-id": "msg_7",
        "webhook-timestamp": str(stamp),
        "webhook-signature": webhooks.signature(secret, "msg_7", stamp, body),
    }
    assert example["genuine"](secret, headers, body)
    assert not example["genuine"](secret, headers, body + b" ")
    assert not example["genuine"](webhooks.new_secret(), headers, body)
    assert not example["genuine"](secret, {**headers, "webhook-timestamp": str(stamp - 600)}, body)
