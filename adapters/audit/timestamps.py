"""RFC 3161 time stamps on audit checkpoints: a time-stamping authority (TSA) outside the
data folder signs SHA-256 of a seal's checkpoint with the time it saw it, so whoever holds
the TSA's certificates can later show the checkpoint existed then, even if everything in
the data folder (signing key included) was since rewritten.

``request_timestamp`` asks a TSA and returns its DER TimeStampResponse, to be stored as
is; ``verify_timestamp`` checks one against the data and a PEM bundle the installation
trusts. Parsing and the signature and chain checks are rfc3161-client's (OpenSSL
underneath); what this module adds is SHA-256 only, the nonce and imprint checks on
receipt, picking roots out of the bundle, and plain-English errors."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import NameOID
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPES = ("application/timestamp-reply", "application/timestamp-response")  # RFC 3161, older
SHA256 = x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1")
# PKIFailureInfo bits (RFC 3161 section 2.4.2), named as the RFC names them.
FAILURES = {
    0: "badAlg (unrecognized or unsupported algorithm)",
    2: "badRequest (transaction not permitted or supported)",
    5: "badDataFormat (the data submitted has the wrong format)",
    14: "timeNotAvailable (the TSA's time source is not available)",
    15: "unacceptedPolicy (the requested policy is not supported)",
    16: "unacceptedExtension (the requested extension is not supported)",
    17: "addInfoNotAvailable (the additional information requested is not available)",
    25: "systemFailure (the request cannot be handled due to system failure)",
}


class TimestampError(Exception):
    """A time stamp could not be had, or does not prove what it should (the message says
    which, in plain English)."""


def request_timestamp(url: str, data: bytes, timeout: float = 10.0) -> bytes:
    """The TSA at ``url``'s DER TimeStampResponse for SHA-256(``data``), with a fresh nonce
    and the TSA's certificate asked for; checked to be granted and to answer this very
    request (nonce and imprint), not yet checked against a trusted root (that is
    ``verify_timestamp``'s job, wherever the response is later read)."""
    import requests  # here: commands that do not time-stamp do not pay for importing it

    if not data:
        raise TimestampError("nothing to time-stamp: the data is empty")
    query = (
        TimestampRequestBuilder()
        .data(data)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    try:
        answer = requests.post(
            url,
            data=query.as_bytes(),
            headers={"Content-Type": QUERY_TYPE, "Accept": REPLY_TYPES[0]},
            timeout=timeout,
        )
    except requests.RequestException as error:
        raise TimestampError(
            f"no answer from the time-stamping authority at {url}: {error}"
        ) from error
    _check_http(url, answer.status_code, answer.headers.get("Content-Type", ""), answer.content)
    response = _parse(answer.content, f"the answer of the time-stamping authority at {url}")
    _require_granted(response, answer.content, url)
    with _reading(f"the answer of the time-stamping authority at {url}"):
        info = response.tst_info
        if info.nonce != query.nonce:
            raise TimestampError(
                f"the time-stamping authority at {url} answered another request: "
                "the nonce in its time stamp is not the one we sent"
            )
        _require_imprint(response, data, f"the time stamp from {url}")
    return answer.content


def verify_timestamp(response: bytes, data: bytes, certificates: bytes) -> datetime:
    """When the TSA saw SHA-256(``data``) (genTime, aware UTC), once the DER ``response``
    checks out: granted, its imprint SHA-256 of ``data``, its signature good, made with a
    certificate for time stamping (extended key usage timeStamping, critical) that chains
    to a root in ``certificates`` (a PEM bundle: the TSA's certificate, any intermediates,
    and the self-signed root the installation trusts). TimestampError otherwise."""
    parsed = _parse(response, "the time-stamp response")
    _require_granted(parsed, response, None)
    roots, others = _bundle(certificates)
    with _reading("the time-stamp response"):
        _require_imprint(parsed, data, "the time stamp")
        builder = VerifierBuilder()
        for root in roots:
            builder = builder.add_root_certificate(root)
        for certificate in others:
            builder = builder.add_intermediate_certificate(certificate)
        signer = _signer_among(parsed, others)
        if signer is not None:  # the verifier then insists the token's own copy is this one
            builder = builder.tsa_certificate(signer)
        try:
            builder.build().verify(parsed, hashlib.sha256(data).digest())
        except VerificationError as error:
            raise TimestampError(_explain(error)) from error
        return _utc(parsed.tst_info.gen_time)


def timestamp_time(response: bytes) -> datetime:
    """The time stamp's genTime (aware UTC) as the response states it, NOT verified: for
    showing, never for proving (``verify_timestamp`` is for that)."""
    parsed = _parse(response, "the time-stamp response")
    _require_granted(parsed, response, None)
    with _reading("the time-stamp response"):
        return _utc(parsed.tst_info.gen_time)


def tsa_name(response: bytes) -> str:
    """Who signed the time stamp, NOT verified, for showing: the common name of the
    signing certificate in the token, else of the TSA name in the token, else that whole
    name; TimestampError if the token names no one."""
    parsed = _parse(response, "the time-stamp response")
    _require_granted(parsed, response, None)
    with _reading("the time-stamp response"):
        embedded = [x509.load_der_x509_certificate(der) for der in parsed.signed_data.certificates]
        signer = _signer_among(parsed, embedded)
        if signer is not None:
            return _display_name(signer.subject)
        try:
            named = parsed.tst_info.name
        except ValueError:  # the token carries no TSA name
            named = None
    if isinstance(named, x509.DirectoryName):
        return _display_name(named.value)
    raise TimestampError("the time stamp names no signer: no certificate and no TSA name in it")


def _check_http(url: str, status: int, content_type: str, body: bytes) -> None:
    if status != 200:
        raise TimestampError(
            f"the time-stamping authority at {url} answered HTTP {status}"
            f"{_excerpt(body, content_type)} instead of a time stamp"
        )
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in REPLY_TYPES:
        raise TimestampError(
            f"the time-stamping authority at {url} answered "
            f"{media_type or 'without a Content-Type'}"
            f"{_excerpt(body, content_type)}, not application/timestamp-reply: "
            "is this the address of an RFC 3161 time-stamping service?"
        )


def _excerpt(body: bytes, content_type: str) -> str:
    """A short quote of a textual error body, for the message; nothing for binary ones."""
    if not content_type.startswith("text/") or not body:
        return ""
    text = " ".join(body.decode("utf-8", "replace").split())
    return f" ({text[:120]}{'...' if len(text) > 120 else ''})"


def _parse(response: bytes, what: str) -> TimeStampResponse:
    with _reading(what):
        return decode_timestamp_response(response)


@contextmanager
def _reading(what: str) -> Iterator[None]:
    """Turns any complaint about damaged input (the parser's ValueError, cryptography's
    InvalidVersion for a damaged embedded certificate, ...) into TimestampError. The parser
    is Rust: some damage surfaces as its PanicException, which derives from BaseException
    (``except Exception`` does not see it), so that one is caught by name."""
    try:
        yield
    except TimestampError:
        raise
    except Exception as error:
        raise TimestampError(f"{what} is damaged or not a time stamp: {error}") from error
    except BaseException as error:
        if type(error).__name__ != "PanicException":
            raise
        raise TimestampError(f"{what} is damaged or not a time stamp: {error}") from error


def _require_granted(response: TimeStampResponse, der: bytes, url: str | None) -> None:
    with _reading("the time-stamp response"):
        status, texts = response.status, list(response.status_string)
    if status == PKIStatus.GRANTED:
        return
    who = (
        f"the time-stamping authority at {url} refused the time stamp"
        if url
        else "the time-stamp response is a refusal, not a time stamp"
    )
    try:
        name = PKIStatus(status).name.lower().replace("_", " ")
    except ValueError:
        name = "an unknown status"
    failures = _failure_info(der)
    details = "; ".join([*texts, *failures]) or "no reason given"
    raise TimestampError(f"{who}: status {status} ({name}): {details}")


def _failure_info(der: bytes) -> list[str]:
    """The PKIFailureInfo bits of a refusal, by name. rfc3161-client reads the status and
    its text but not these bits, so this walks the few DER headers before them:
    TimeStampResp ::= SEQUENCE { status PKIStatusInfo ::= SEQUENCE { status INTEGER,
    statusString SEQUENCE OPTIONAL, failInfo BIT STRING OPTIONAL }, ... }."""
    try:
        _, outer, _ = _der_header(der, 0)
        _, at, end = _der_header(der, outer)
        while at < end:
            tag, start, stop = _der_header(der, at)
            if tag == 0x03 and stop > start:
                bits = der[start + 1 : stop]
                return [
                    FAILURES.get(bit, f"failure bit {bit}")
                    for bit in range(len(bits) * 8)
                    if bits[bit // 8] & (0x80 >> (bit % 8))
                ]
            at = stop
    except IndexError:
        pass
    return []


def _der_header(der: bytes, at: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at ``at``."""
    tag, length, at = der[at], der[at + 1], at + 2
    if length & 0x80:
        size = length & 0x7F
        length, at = int.from_bytes(der[at : at + size], "big"), at + size
    if at + length > len(der):
        raise IndexError("DER element runs past the end")
    return tag, at, at + length


def _require_imprint(response: TimeStampResponse, data: bytes, what: str) -> None:
    imprint = response.tst_info.message_imprint
    if imprint.hash_algorithm != SHA256:
        raise TimestampError(
            f"{what} is over a digest made with {imprint.hash_algorithm.dotted_string}, not SHA-256"
        )
    if not secrets.compare_digest(imprint.message, hashlib.sha256(data).digest()):
        raise TimestampError(
            f"{what} does not match the data: its message imprint is not SHA-256 of the data"
        )


def _bundle(certificates: bytes) -> tuple[list[x509.Certificate], list[x509.Certificate]]:
    """The bundle's self-signed certificates (the trusted roots) and the others (the TSA's
    certificate, intermediates). Only a self-signed certificate anchors trust: OpenSSL,
    underneath, builds every chain up to one."""
    try:
        loaded = x509.load_pem_x509_certificates(certificates)
    except ValueError as error:
        raise TimestampError(
            f"the TSA certificate bundle is not PEM certificates: {error}"
        ) from error
    roots = [certificate for certificate in loaded if _self_signed(certificate)]
    if not roots:
        raise TimestampError(
            "the TSA certificate bundle holds no root (self-signed) certificate to trust"
        )
    return roots, [certificate for certificate in loaded if certificate not in roots]


def _self_signed(certificate: x509.Certificate) -> bool:
    if certificate.subject != certificate.issuer:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _signer_among(
    response: TimeStampResponse, candidates: list[x509.Certificate]
) -> x509.Certificate | None:
    """The certificate the token's one SignerInfo names (issuer and serial number)."""
    signers = list(response.signed_data.signer_infos)
    if len(signers) != 1:
        return None
    for certificate in candidates:
        if (certificate.issuer, certificate.serial_number) == (
            signers[0].issuer,
            signers[0].serial_number,
        ):
            return certificate
    return None


def _explain(error: VerificationError) -> str:
    text = str(error)
    if text.startswith("Error while verifying certificates"):
        reason = text.partition('data: "')[2].partition('"')[0] or text
        return (
            "the time stamp's signature or its certificate chain fails against the trusted "
            f"certificates: {reason}"
        )
    return f"the time stamp does not verify: {text}"


def _display_name(name: x509.Name) -> str:
    common = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if common:
        value = common[0].value
        return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return name.rfc4514_string()


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
