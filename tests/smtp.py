"""A real SMTP server on loopback for the tests (aiosmtpd): STARTTLS required, with a
self-signed certificate made for it alone, and AUTH LOGIN/PLAIN for one test user, offered
only after STARTTLS. Every message it accepts is kept, parsed, in ``received``; a recipient
at ``nowhere.invalid`` is refused (550), as a server refuses an unknown mailbox."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import secrets
import socket
import ssl
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path
from typing import Any, ClassVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"
REFUSED_DOMAIN = "nowhere.invalid"


@dataclass
class TestSMTP:
    """A running test SMTP server: where it listens, the user and password it accepts, the
    PEM certificate a client must trust (``smtp_ca_file``), and what it received."""

    __test__: ClassVar[bool] = False  # a helper, not a test class for pytest to collect

    host: str
    port: int
    user: str
    password: str
    ca_file: Path
    received: list[EmailMessage]
    _controller: Controller = field(repr=False)

    def stop(self) -> None:
        self._controller.stop()


def start_smtp(folder: Path) -> TestSMTP:
    """A server on a free loopback port, its certificate and key written to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    certificate, key = _make_certificate(folder)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(certificate, key)
    user, password = "kringloop-test", secrets.token_urlsafe(16)
    received: list[EmailMessage] = []
    listening = socket.create_server((HOST, 0))
    controller = _Controller(
        listening,
        _Keeper(received),
        hostname=HOST,
        server_hostname="localhost",
        tls_context=tls,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=_authenticator(user, password),
    )
    controller.start()
    return TestSMTP(HOST, controller.port, user, password, certificate, received, controller)


@contextmanager
def running_smtp(folder: Path) -> Iterator[TestSMTP]:
    """A server (as ``start_smtp``) for the block, stopped after it."""
    server = start_smtp(folder)
    try:
        yield server
    finally:
        server.stop()


class _Controller(Controller):
    """aiosmtpd's threaded controller on a socket bound already (to port 0: a free port
    with no window in which another process could take it)."""

    def __init__(self, listening: socket.socket, handler: Any, **kwargs: Any) -> None:
        super().__init__(handler, port=listening.getsockname()[1], **kwargs)
        self._listening = listening

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self.loop.create_server(self._factory_invoker, sock=self._listening)


class _Keeper:
    """The server's handler: refuses recipients at ``nowhere.invalid``, keeps the rest."""

    def __init__(self, received: list[EmailMessage]) -> None:
        self.received = received

    async def handle_RCPT(  # aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.lower().endswith("@" + REFUSED_DOMAIN):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        parsed = BytesParser(policy=default).parsebytes(content)
        assert isinstance(parsed, EmailMessage)
        self.received.append(parsed)
        return "250 Message accepted"


def _authenticator(user: str, password: str) -> Any:
    """LOGIN and PLAIN (aiosmtpd hands both over as a LoginPassword) for one user."""

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        right = (
            isinstance(auth_data, LoginPassword)
            and secrets.compare_digest(auth_data.login, user.encode())
            and secrets.compare_digest(auth_data.password, password.encode())
        )
        return AuthResult(success=right, handled=right)  # a refusal: aiosmtpd answers 535

    return authenticate


def _make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for ``localhost`` and 127.0.0.1 (the name a client checks),
    valid for a day; writes smtp.pem and smtp.key."""
    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Kringloop test SMTP")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    pem, key_file = folder / "smtp.pem", folder / "smtp.key"
    pem.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return pem, key_file
