"""Notices sent as webhooks, signed the Standard Webhooks way (www.standardwebhooks.com,
spec 1.0.0): an HTTP POST of the JSON notice with the headers ``webhook-id`` (the notice's
id, the same on every retry, so a receiver can drop repeats), ``webhook-timestamp`` (unix
seconds of this attempt, against replays) and ``webhook-signature``: ``v1,`` and the base64
HMAC-SHA256 of ``{id}.{timestamp}.{body}`` under the endpoint's secret, written
``whsec_<base64 key>``. Any receiver that speaks the standard (its libraries exist for most
languages) can check our notices; ``verify`` is the check in Python.

Signing is our own dozen lines of the standard library rather than the ``standardwebhooks``
package: its ``verify`` has a fixed five-minute window and reads the clock itself, so the
tolerance and ``now`` asked of ``verify`` here would have to be written around it anyway,
and a malformed signature header makes it raise ValueError instead of its own error. The
signature is held to the vector its reference libraries all test against."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from adapters.notifications.mail import DeliveryFailed

SECRET_PREFIX = "whsec_"  # noqa: S105 (the standard's marker of a secret, not one)
VERSION = "v1"  # symmetric (HMAC-SHA256); the standard's asymmetric one is v1a
TOLERANCE = 300  # seconds either side of now, the standard's libraries' window
_KEY_BYTES = (24, 64)  # the standard: at least 192 bits, at most 512
_ANSWER_CHARACTERS = 200


class WebhookRejected(Exception):
    """A request that is not a webhook from the holder of the secret, or not a fresh one;
    the message says which check failed (never the secret)."""


def new_secret() -> str:
    """A fresh endpoint secret, ``whsec_`` and 32 random bytes in base64: one per endpoint,
    as the standard asks, so one leaked secret forges notices to one receiver only."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "{message_id}.{timestamp}.{body}">``: the value of the
    ``webhook-signature`` header. The id may hold no ``.`` (the standard's rule: it would
    make where the id ends and the timestamp begins ambiguous)."""
    if not message_id or "." in message_id:
        raise ValueError(f"a webhook id is not empty and holds no '.': {message_id!r}")
    digest = _digest(_key(secret), message_id, timestamp, body)
    return f"{VERSION},{base64.b64encode(digest).decode('ascii')}"


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance: int = TOLERANCE,
    now: int | None = None,
) -> None:
    """Return if ``body`` with these headers is a webhook signed with ``secret`` whose
    timestamp is within ``tolerance`` seconds of ``now`` (the clock if None); raise
    WebhookRejected otherwise. ``body`` is the raw request body as received: parsing and
    re-serialising the JSON first changes bytes and breaks the signature. Any one of the
    space-separated ``v1`` signatures may match (a sender rotating its secret signs with
    both); they are compared in constant time. A receiver should also drop a
    ``webhook-id`` it has already handled: retries carry the same id."""
    key = _key(secret)
    fields = {name.lower(): value for name, value in headers.items()}
    message_id = _required(fields, "webhook-id")
    timestamp = _timestamp(_required(fields, "webhook-timestamp"))
    offered = _required(fields, "webhook-signature")
    _fresh(timestamp, tolerance, int(time.time()) if now is None else now)
    expected = _digest(key, message_id, timestamp, body)
    if not any(hmac.compare_digest(expected, given) for given in _v1_signatures(offered)):
        raise WebhookRejected("no webhook-signature matches this body signed with the secret")


def forbidden_target(url: str) -> str | None:
    """Why a webhook may not be posted to ``url``, or None: an address that resolves to a
    link-local, unspecified or multicast address (the cloud's metadata service at
    169.254.169.254 above all) is never a receiver; loopback and private networks are
    (an intranet's). Checked when sending, so a name that resolves there later is caught."""
    host = urlsplit(url).hostname
    if not host:
        return "the address names no host"
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return None  # not resolvable now: the post fails and is retried
    for address in found:
        ip = ipaddress.ip_address(str(address).split("%")[0])
        if ip.is_link_local or ip.is_unspecified or ip.is_multicast:
            return f"{host} resolves to {ip}, where no webhook is sent (link-local or reserved)"
    return None


def post(
    url: str,
    secret: str,
    message_id: str,
    payload: dict[str, Any],
    timeout: float = 10.0,
    now: int | None = None,
) -> None:
    """POST ``payload`` to ``url`` as one signed webhook attempt, stamped ``now`` (the
    clock if None). Delivered when the receiver answers 2xx; DeliveryFailed for any
    other answer, a redirect included (not followed: the standard treats 3xx as a
    failure, the address is to be updated instead), and for no answer within ``timeout``
    seconds or none at all. Retrying is the caller's: the same ``message_id`` again, so
    the receiver sees one notice however many attempts it took. ``permanent`` on the
    failure when retrying cannot help: 410 Gone (the standard: stop sending there), an
    address that is no URL, a secret, id or payload that cannot be sent."""
    import requests  # here: only the delivery flow pays for importing it

    forbidden = forbidden_target(url)
    if forbidden:
        raise DeliveryFailed(f"webhook {message_id}: {forbidden}", permanent=True)
    timestamp = int(time.time()) if now is None else now
    body, headers = _request(secret, message_id, payload, timestamp)
    try:
        with requests.post(
            url, data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True
        ) as answer:
            if 200 <= answer.status_code < 300:
                return
            start = next(answer.iter_content(4 * _ANSWER_CHARACTERS), b"")
            failure = _refused(url, answer.status_code, answer.reason, answer.headers, start)
    except _unsendable(requests) as error:
        raise DeliveryFailed(f"webhook {message_id}: {error}", permanent=True) from error
    except requests.RequestException as error:
        raise DeliveryFailed(f"webhook {message_id}: no answer from {url}: {error}") from error
    raise DeliveryFailed(f"webhook {message_id}: {failure}", permanent=answer.status_code == 410)


def _unsendable(requests: Any) -> tuple[type[Exception], ...]:
    """requests' errors for an address or header no retry will mend."""
    errors = requests.exceptions
    return (errors.MissingSchema, errors.InvalidSchema, errors.InvalidURL, errors.InvalidHeader)


def _request(
    secret: str, message_id: str, payload: dict[str, Any], timestamp: int
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of an attempt; DeliveryFailed (permanent: no retry mends it)
    for a secret, id or payload that cannot be sent, the secret never in its message."""
    try:
        body = json.dumps(
            payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
        signed = signature(secret, message_id, timestamp, body)
    except (TypeError, ValueError) as error:
        raise DeliveryFailed(
            f"webhook {message_id}: cannot be sent: {error}", permanent=True
        ) from None
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signed,
        "Content-Type": "application/json",
        "User-Agent": "Kringloop",
    }
    return body, headers


def _refused(
    url: str, status: int, reason: str | None, headers: Mapping[str, str], start: bytes
) -> str:
    """Why a non-2xx answer is not a delivery, with its status and its first characters."""
    text = start.decode("utf-8", errors="replace")[:_ANSWER_CHARACTERS]
    said = f"{url} answered {status} {reason or ''}".rstrip()
    if 300 <= status < 400:
        said += f", a redirect to {headers.get('Location', '(no Location)')} (not followed)"
    return f"{said}: {text!r}"


def _key(secret: str) -> bytes:
    """The key bytes of a ``whsec_`` secret (the prefix may be left off, and the base64
    padding, as the reference libraries allow); ValueError, without the secret, if it is
    not one."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is 'whsec_' and base64: this one is not") from None
    low, high = _KEY_BYTES
    if not low <= len(key) <= high:
        raise ValueError(f"a webhook secret's key is {low} to {high} bytes, not {len(key)}")
    return key


def _digest(key: bytes, message_id: str, timestamp: int, body: bytes) -> bytes:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return hmac.new(key, signed, hashlib.sha256).digest()


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise WebhookRejected(f"no {name} header")
    return value


def _timestamp(value: str) -> int:
    """The header's unix seconds: ASCII digits only (``int`` would take ``+1_0``)."""
    if not (value.isascii() and value.isdigit()):
        raise WebhookRejected(f"webhook-timestamp is not unix seconds: {value[:40]!r}")
    return int(value)


def _fresh(timestamp: int, tolerance: int, now: int) -> None:
    if timestamp < now - tolerance:
        raise WebhookRejected(
            f"webhook-timestamp {timestamp} is {now - timestamp} s old, over {tolerance} s"
        )
    if timestamp > now + tolerance:
        raise WebhookRejected(
            f"webhook-timestamp {timestamp} is {timestamp - now} s ahead, over {tolerance} s"
        )


def _v1_signatures(header: str) -> list[bytes]:
    """The decoded ``v1`` signatures of a ``webhook-signature`` header; other versions
    (``v1a``, say) and malformed entries are passed over, not errors: a sender may add
    signatures we do not check."""
    found: list[bytes] = []
    for entry in header.split():
        version, comma, encoded = entry.partition(",")
        if version != VERSION or not comma:
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found
