"""A real RFC 3161 time-stamping authority on loopback for the tests: ``openssl ts -reply``
behind a small stdlib HTTP server, signing with a TSA certificate from a test root made
for it alone. Each TSA has its own root, so a token from one fails against another's
bundle, as a token from a TSA the installation does not trust must."""

from __future__ import annotations

import datetime
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

POLICY = "1.2.3.4.1"  # the test TSA's policy (the one openssl's sample configuration uses)
QUERY = "application/timestamp-query"
REPLY = "application/timestamp-reply"


@dataclass
class TestTSA:
    """A running test TSA: where to POST queries, the PEM bundle (TSA certificate + root)
    an installation trusting it would hold, and its root alone."""

    __test__: ClassVar[bool] = False  # a helper, not a test class for pytest to collect

    url: str
    certificates: Path
    root: Path
    folder: Path
    _stop: _Serving = field(repr=False)

    def stop(self) -> None:
        self._stop.stop()


def start_tsa(
    folder: Path, name: str = "Kringloop test TSA", *, digests: str = "sha256"
) -> TestTSA:
    """A TSA named ``name`` serving on a free loopback port, its keys, certificates and
    openssl configuration in ``folder``. ``digests`` is the openssl list of message digests
    it accepts (a TSA accepting only ``sha512`` refuses our SHA-256 queries: badAlg)."""
    folder.mkdir(parents=True, exist_ok=True)
    root = _make_certificates(folder, name)
    config = _write_config(folder, digests)
    serving = _serve(_handler(config, folder))
    return TestTSA(
        url=serving.url,
        certificates=folder / "bundle.pem",
        root=root,
        folder=folder,
        _stop=serving,
    )


@contextmanager
def running_tsa(folder: Path, name: str = "Kringloop test TSA") -> Iterator[TestTSA]:
    """A TSA (as ``start_tsa``) for the block, stopped after it."""
    tsa = start_tsa(folder, name)
    try:
        yield tsa
    finally:
        tsa.stop()


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Any stdlib handler on a free loopback port for the block (a misbehaving TSA, say);
    yields its base URL."""
    running = _serve(handler)
    try:
        yield running.url
    finally:
        running.stop()


@dataclass
class _Serving:
    server: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def _serve(handler: type[BaseHTTPRequestHandler]) -> _Serving:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return _Serving(server, thread)


class Answering(BaseHTTPRequestHandler):
    """A quiet handler (the tests' output is not an access log) with one way to answer."""

    def answer(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def answering(status: int, content_type: str, body: bytes) -> type[BaseHTTPRequestHandler]:
    """A server's handler that answers every POST with this status, type and body."""

    class Answer(Answering):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.answer(status, content_type, body)

    return Answer


def _handler(config: Path, folder: Path) -> type[BaseHTTPRequestHandler]:
    """A handler answering POST / with ``openssl ts -reply``. One reply at a time: openssl
    reads and rewrites the serial file, which two at once would garble."""
    lock = threading.Lock()

    class TSAHandler(Answering):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Type") != QUERY:
                self.answer(415, "text/plain", b"expected application/timestamp-query\n")
                return
            with lock, tempfile.TemporaryDirectory(dir=folder) as work:
                query_file, reply_file = Path(work, "query.tsq"), Path(work, "reply.tsr")
                query_file.write_bytes(query)
                command = ["openssl", "ts", "-reply", "-config", str(config)]
                command += ["-queryfile", str(query_file), "-out", str(reply_file)]
                run = subprocess.run(
                    command,
                    capture_output=True,
                    check=False,
                )
                if run.returncode != 0 or not reply_file.exists():
                    self.answer(400, "text/plain", run.stderr or b"openssl ts -reply failed\n")
                    return
                self.answer(200, REPLY, reply_file.read_bytes())

    return TSAHandler


def _make_certificates(folder: Path, name: str) -> Path:
    """A root CA and a TSA certificate it issued (extendedKeyUsage timeStamping, critical,
    as RFC 3161 section 2.3 requires); writes root.pem, tsa.pem, tsa.key and bundle.pem
    (TSA certificate then root) and returns the root's path."""
    now = datetime.datetime.now(datetime.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} root")])
    root = (
        _builder(root_name, root_name, root_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, hashes.SHA256())
    )
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    tsa_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Kringloop tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    tsa = (
        _builder(tsa_name, root_name, tsa_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(tsa_key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (folder / "root.pem").write_bytes(root.public_bytes(pem))
    (folder / "tsa.pem").write_bytes(tsa.public_bytes(pem))
    (folder / "bundle.pem").write_bytes(tsa.public_bytes(pem) + root.public_bytes(pem))
    key_file = folder / "tsa.key"
    key_file.touch(mode=0o600)
    key_file.write_bytes(
        tsa_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder / "root.pem"


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePublicKey, now: datetime.datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
    )


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _write_config(folder: Path, digests: str) -> Path:
    """The openssl ts configuration (the [tsa] section of openssl's sample, SHA-256
    throughout), with a serial file starting at 1."""
    (folder / "serial").write_text("01\n")
    config = folder / "tsa.cnf"
    config.write_text(
        "oid_section = oids\n"
        "[ oids ]\n"
        f"tsa_policy1 = {POLICY}\n"
        "[ tsa ]\n"
        "default_tsa = tsa_config1\n"
        "[ tsa_config1 ]\n"
        f"serial = {folder / 'serial'}\n"
        "crypto_device = builtin\n"
        f"signer_cert = {folder / 'tsa.pem'}\n"
        f"signer_key = {folder / 'tsa.key'}\n"
        "signer_digest = sha256\n"
        "default_policy = tsa_policy1\n"
        f"digests = {digests}\n"
        "accuracy = secs:1, millisecs:500, microsecs:100\n"
        "clock_precision_digits = 0\n"
        "ordering = yes\n"
        "tsa_name = yes\n"
        "ess_cert_id_chain = no\n"
        "ess_cert_id_alg = sha256\n"
    )
    return config
