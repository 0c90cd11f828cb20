"""A witness for the audit record's checkpoints, and the client that asks one to co-sign.

The record's seals are the leaves of a Merkle tree; its checkpoint, signed by the
installation's audit key, is sent to a witness: a separate process, ideally on another
machine and run by someone else, that co-signs a checkpoint only if it is consistent with
the last one it co-signed for that log. A data folder rolled back to an older backup then
cannot get a cosignature again, and an auditor who asks the witness for the newest
checkpoint it vouches for sees how far the record had grown.

The server follows C2SP tlog-witness (https://c2sp.org/tlog-witness): ``POST
/add-checkpoint`` with its status codes and bodies, answering tlog-cosignature/v1 lines.
``GET /checkpoint?origin=<origin>`` is our extension (the specification leaves retrieval
open): the latest checkpoint the witness co-signed for a log, as a signed note carrying
the log's signature(s) and the witness's cosignature; 404 if it never co-signed one.

State, in one folder readable by the witness only: its Ed25519 key (``witness-key.pem``,
made on first start), the name it signs as (``witness-name``: the name is part of the
public key auditors hold, so the same key never signs under another name) and one JSON file
per log under ``logs/``. Only the standard library serves and asks (http.server, urllib).
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import json
import logging
import os
import re
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.audit import merkle, notes

KEY_FILE = "witness-key.pem"
NAME_FILE = "witness-name"
LOCK_FILE = "witness.lock"
LOGS_DIR = "logs"
SIZE_TYPE = "text/x.tlog.size"  # the 409 answer's body: the witness's latest size
TEXT_TYPE = "text/plain; charset=utf-8"
MAX_BODY = 64 * 1024  # 63 proof lines and a checkpoint with a few signatures fit many times
MAX_PROOF_LINES = 63  # as the specification bounds them
MAX_ANSWER = 1024 * 1024
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")

log = logging.getLogger("kringloop.witness")


class WitnessError(Exception):
    """The witness did not co-sign (or could not be asked); ``status`` is its HTTP status,
    None when it was not reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class WitnessConflict(WitnessError):
    """409 with the witness's latest size: the old size sent is not the size it last
    co-signed. Smaller than our own tree: resend from that size. Larger: the witness has
    seen this log grow further than this record: a rollback."""

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message, HTTPStatus.CONFLICT)
        self.size = size


# --- the server -----------------------------------------------------------------------


class Refusal(Exception):
    """An add-checkpoint request the witness does not co-sign, with its HTTP answer."""

    def __init__(self, status: HTTPStatus, message: str, content_type: str = TEXT_TYPE) -> None:
        super().__init__(message)
        self.status = status
        self.content_type = content_type


@dataclass(frozen=True)
class Request:
    """An add-checkpoint body, read: the old size, the proof, the signed checkpoint."""

    old_size: int
    proof: list[bytes]
    note: str


@dataclass(frozen=True)
class Cosigned:
    """What the witness keeps per log: the checkpoint note as the log sent it (without
    this witness's own signatures) and the cosignature it answered."""

    note: str
    cosignature: str

    @property
    def checkpoint(self) -> notes.Checkpoint:
        return notes.parse_checkpoint(notes.split_note(self.note)[0])


def witness_key(state: Path, name: str) -> Ed25519PrivateKey:
    """The witness's key, created (owner-only) in ``state`` on first use. The name it was
    first used with is kept beside it: another name is refused, as auditors hold the key
    under that name and would reject every cosignature made under another."""
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    named = state / NAME_FILE
    if named.exists() and named.read_text(encoding="utf-8").strip() != name:
        known = named.read_text(encoding="utf-8").strip()
        raise ValueError(f"the witness in {state} is named {known!r}, not {name!r}")
    path = state / KEY_FILE
    if path.exists():
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 key")
        key = loaded
    else:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_atomically(path, pem, exclusive=True)
    if not named.exists():
        _write_atomically(named, (name + "\n").encode())
    return key


def witness_vkey(state: Path, name: str) -> str:
    """The witness's public key as a note verifier key (type 0x04, cosignature/v1): what
    auditors set as KRINGLOOP_WITNESS_KEY. Creates the key if it is not there yet."""
    public = witness_key(state, name).public_key()
    return notes.vkey(name, public, alg=notes.COSIGNATURE_V1)


class Witness:
    """The witness's decisions, apart from HTTP: which checkpoints it co-signs."""

    def __init__(self, state: Path, name: str, logs: dict[str, str]) -> None:
        self.name = name
        self.key = witness_key(state, name)
        public = self.key.public_key().public_bytes_raw()
        self.key_id = notes.key_id(name, notes.COSIGNATURE_V1, public)
        self.folder = state / LOGS_DIR
        self.folder.mkdir(mode=0o700, exist_ok=True)
        self.verifiers: dict[str, list[notes.Verifier]] = {}
        for origin, vkey in logs.items():
            verifier = notes.parse_vkey(vkey)
            if verifier.name != origin:
                raise ValueError(f"the key {vkey!r} is named {verifier.name!r}, not {origin!r}")
            self.verifiers.setdefault(origin, []).append(verifier)
        self.locks = {origin: threading.Lock() for origin in self.verifiers}

    def add_checkpoint(self, body: bytes) -> str:
        """The cosignature line(s) for a consistent checkpoint, once it is stored; a
        Refusal (with the specification's status) otherwise."""
        request = parse_request(body)
        origin = request.note.split("\n", 1)[0]
        if origin not in self.verifiers:
            raise Refusal(HTTPStatus.NOT_FOUND, f"unknown log {origin!r}")
        text = self._verified(origin, request.note)
        try:
            checkpoint = notes.parse_checkpoint(text)
        except ValueError as error:
            raise Refusal(HTTPStatus.BAD_REQUEST, f"not a checkpoint: {error}") from None
        if request.old_size > checkpoint.size:
            raise Refusal(
                HTTPStatus.BAD_REQUEST,
                f"old size {request.old_size} is larger than the checkpoint's {checkpoint.size}",
            )
        with self.locks[origin]:  # check and store as one step: no rollback by a race
            latest = self.latest(origin)
            self._check(request, checkpoint, latest.checkpoint if latest else None)
            cosignature = notes.cosign(text, self.name, self.key, int(time.time()))
            self._store(origin, Cosigned(self._log_signed(request.note), cosignature))
        return cosignature

    def latest(self, origin: str) -> Cosigned | None:
        """The latest checkpoint co-signed for this log, None if none (or an unknown log)."""
        if origin not in self.verifiers:
            return None
        try:
            stored = json.loads(self._path(origin).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return Cosigned(stored["note"], stored["cosignature"])

    def _verified(self, origin: str, note: str) -> str:
        try:
            notes.split_note(note)
        except ValueError as error:
            raise Refusal(HTTPStatus.BAD_REQUEST, f"not a signed note: {error}") from None
        for verifier in self.verifiers[origin]:
            try:
                return notes.verify_note(note, verifier)
            except ValueError:
                continue
        raise Refusal(HTTPStatus.FORBIDDEN, f"no valid signature by the key of {origin!r}")

    @staticmethod
    def _check(
        request: Request, checkpoint: notes.Checkpoint, latest: notes.Checkpoint | None
    ) -> None:
        latest_size = latest.size if latest else 0
        if request.old_size != latest_size:
            raise Refusal(HTTPStatus.CONFLICT, f"{latest_size}\n", SIZE_TYPE)
        if latest is None:
            return  # the first checkpoint of this log: nothing to be consistent with
        if checkpoint.size == latest.size:
            if checkpoint.root != latest.root:
                raise Refusal(
                    HTTPStatus.CONFLICT,
                    f"the log's tree of size {latest.size} has another root: a fork",
                )
            if request.proof:
                raise Refusal(HTTPStatus.UNPROCESSABLE_ENTITY, "a proof for one size is empty")
            return
        if not merkle.verify_consistency(
            latest.size, checkpoint.size, latest.root, checkpoint.root, request.proof
        ):
            raise Refusal(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                f"the proof does not show the tree of size {checkpoint.size} extends the "
                f"one of size {latest.size} this witness co-signed",
            )

    def _log_signed(self, note: str) -> str:
        """The note without any signature of this witness (one sent back to it): kept
        so, the note it hands out carries exactly one cosignature of its own."""
        text, signatures = notes.split_note(note)
        kept = [s.line for s in signatures if (s.name, s.key_id) != (self.name, self.key_id)]
        return text + "\n" + "".join(kept)  # the log's own signature is always kept

    def _store(self, origin: str, cosigned: Cosigned) -> None:
        record = {"origin": origin, "note": cosigned.note, "cosignature": cosigned.cosignature}
        _write_atomically(self._path(origin), json.dumps(record, indent=1).encode())

    def _path(self, origin: str) -> Path:
        return self.folder / (hashlib.sha256(origin.encode()).hexdigest() + ".json")


def parse_request(body: bytes) -> Request:
    """An add-checkpoint body: ``old N``, proof hashes in base64 one a line, an empty
    line, the signed checkpoint; a Refusal (400) for anything else."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(HTTPStatus.BAD_REQUEST, "the body is not UTF-8") from None
    head, blank, note = text.partition("\n\n")
    if not blank or not note:
        raise Refusal(HTTPStatus.BAD_REQUEST, "no empty line before the checkpoint")
    first, *hashes = head.split("\n")
    size = first.removeprefix("old ")
    if size == first or not _DECIMAL.fullmatch(size):
        raise Refusal(HTTPStatus.BAD_REQUEST, "the first line is not 'old <size>'")
    if len(hashes) > MAX_PROOF_LINES:
        raise Refusal(HTTPStatus.BAD_REQUEST, f"more than {MAX_PROOF_LINES} proof lines")
    if int(size) == 0 and hashes:
        raise Refusal(HTTPStatus.BAD_REQUEST, "the proof from size 0 is empty")
    return Request(int(size), [_hash(line) for line in hashes], note)


def _hash(line: str) -> bytes:
    try:
        value = base64.b64decode(line, validate=True)
    except binascii.Error:
        raise Refusal(HTTPStatus.BAD_REQUEST, f"proof line {line!r} is not base64") from None
    if len(value) != 32:
        raise Refusal(HTTPStatus.BAD_REQUEST, f"proof line {line!r} is not a SHA-256 hash")
    return value


class WitnessServer(ThreadingHTTPServer):
    """The witness on a port; it holds a lock on its state folder while it runs, so that
    two processes never serve (and store) one witness's state."""

    daemon_threads = True

    def __init__(self, witness: Witness, address: tuple[str, int], guard: IO[bytes]) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        self.witness = witness
        self.guard = guard

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = host.decode() if isinstance(host, bytes) else host
        return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"

    def server_close(self) -> None:
        super().server_close()
        self.guard.close()


def make_server(
    state: Path, name: str, logs: dict[str, str], host: str = "127.0.0.1", port: int = 0
) -> WitnessServer:
    """A witness bound to host:port (0: any free port, see ``.url``), not yet serving; a
    ValueError if another process serves this state folder or a log key is malformed."""
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    guard = os.fdopen(os.open(state / LOCK_FILE, os.O_WRONLY | os.O_CREAT, 0o600), "wb")
    try:
        fcntl.flock(guard, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        guard.close()
        raise ValueError(f"another witness process serves {state}") from None
    try:
        return WitnessServer(Witness(state, name, logs), (host, port), guard)
    except BaseException:
        guard.close()
        raise


def serve(state: Path, name: str, logs: dict[str, str], host: str, port: int) -> None:
    """Serve the witness until interrupted."""
    server = make_server(state, name, logs, host, port)
    try:
        server.serve_forever()
    finally:
        server.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: WitnessServer
    protocol_version = "HTTP/1.1"  # keep-alive, as the specification asks witnesses to
    timeout = 30  # a client that stops sending does not hold a thread for ever
    server_version = "kringloop-witness"

    def do_POST(self) -> None:
        if urllib.parse.urlsplit(self.path).path != "/add-checkpoint":
            self.close_connection = True  # its body is not read: the connection ends here
            self._answer(HTTPStatus.NOT_FOUND, "no such endpoint\n")
            return
        body = self._body()
        if body is None:
            return
        try:
            self._answer(HTTPStatus.OK, self.server.witness.add_checkpoint(body))
        except Refusal as refusal:
            origin = body.split(b"\n\n", 1)[-1].split(b"\n", 1)[0].decode("utf-8", "replace")
            why = str(refusal).strip()
            if refusal.content_type == SIZE_TYPE:
                why = f"the old size is not {why}, the size last co-signed"
            # kept in the log: a refused proof from a known log may be evidence of a fork
            log.warning("not co-signed for %r: %s %s", origin, int(refusal.status), why)
            self._answer(refusal.status, _line(str(refusal)), refusal.content_type)
        except Exception:
            log.exception("add-checkpoint failed")
            self._answer(HTTPStatus.INTERNAL_SERVER_ERROR, "the witness failed\n")

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        if parts.path != "/checkpoint":
            self._answer(HTTPStatus.NOT_FOUND, "no such endpoint\n")
            return
        origins = urllib.parse.parse_qs(parts.query).get("origin", [])
        if len(origins) != 1:
            self._answer(HTTPStatus.BAD_REQUEST, "give one origin: /checkpoint?origin=...\n")
            return
        try:
            latest = self.server.witness.latest(origins[0])
        except Exception:
            log.exception("reading the latest checkpoint failed")
            self._answer(HTTPStatus.INTERNAL_SERVER_ERROR, "the witness failed\n")
            return
        if latest is None:
            self._answer(HTTPStatus.NOT_FOUND, f"no checkpoint co-signed for {origins[0]!r}\n")
            return
        self._answer(HTTPStatus.OK, notes.add_signatures(latest.note, [latest.cosignature]))

    def _body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            self._answer(HTTPStatus.LENGTH_REQUIRED, "a Content-Length is required\n")
            return None
        if int(length) > MAX_BODY:
            self.close_connection = True
            self._answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"at most {MAX_BODY} bytes\n")
            return None
        return self.rfile.read(int(length))

    def _answer(self, status: HTTPStatus, text: str, content_type: str = TEXT_TYPE) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)


# --- the client -----------------------------------------------------------------------


def request_body(signed_checkpoint: str, old_size: int, proof: Sequence[bytes]) -> bytes:
    """The add-checkpoint body for a checkpoint and its consistency proof from old_size."""
    lines = [f"old {old_size}", *(base64.b64encode(h).decode() for h in proof)]
    return ("\n".join(lines) + "\n\n" + signed_checkpoint).encode("utf-8")


def add_checkpoint(
    url: str,
    signed_checkpoint: str,
    old_size: int,
    proof: Sequence[bytes],
    timeout: float = 10.0,
) -> list[str]:
    """Ask the witness at ``url`` to co-sign: its cosignature lines (each ending in a
    newline, to add to the note with ``notes.add_signatures``). WitnessConflict when
    ``old_size`` is not the size it last co-signed (its size in ``.size``); WitnessError
    for any other refusal, or if it cannot be reached."""
    request = urllib.request.Request(  # noqa: S310 (_endpoint allows http(s) only)
        _endpoint(url, "add-checkpoint"),
        data=request_body(signed_checkpoint, old_size, proof),
        method="POST",
        headers={"Content-Type": TEXT_TYPE},
    )
    status, content_type, text = _exchange(request, url, timeout)
    if status == HTTPStatus.CONFLICT and content_type == SIZE_TYPE:
        size = text.strip()
        if not _DECIMAL.fullmatch(size):
            raise WitnessError(f"the witness at {url} answered 409 without a size: {text!r}", 409)
        raise WitnessConflict(
            f"the witness at {url} last co-signed this log at size {size}, not {old_size} "
            "(HTTP 409)",
            int(size),
        )
    if status != HTTPStatus.OK:
        raise WitnessError(
            f"the witness at {url} refused the checkpoint: HTTP {status} "
            f"{_reason(status)}: {text.strip()}",
            status,
        )
    lines = text.splitlines(keepends=True)
    if not lines or not all(ln.startswith("\u2014 ") and ln.endswith("\n") for ln in lines):
        raise WitnessError(f"the witness at {url} answered no signature lines: {text!r}", status)
    return lines


def latest_checkpoint(url: str, origin: str, timeout: float = 10.0) -> str | None:
    """The newest checkpoint the witness at ``url`` co-signed for ``origin``, as a signed
    note with the log's signature and the witness's cosignature (check both: this only
    fetches); None if it never co-signed one; WitnessError if it cannot be asked."""
    query = urllib.parse.urlencode({"origin": origin})
    address = _endpoint(url, f"checkpoint?{query}")
    request = urllib.request.Request(address, method="GET")  # noqa: S310 (http(s) only)
    status, _, text = _exchange(request, url, timeout)
    if status == HTTPStatus.NOT_FOUND:
        return None
    if status != HTTPStatus.OK:
        raise WitnessError(
            f"the witness at {url} gave no checkpoint: HTTP {status} {_reason(status)}: "
            f"{text.strip()}",
            status,
        )
    return text


def _endpoint(url: str, path: str) -> str:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise WitnessError(f"the witness address {url!r} is not an http(s) URL")
    return url.rstrip("/") + "/" + path


def _exchange(request: urllib.request.Request, url: str, timeout: float) -> tuple[int, str, str]:
    """Status, content type and text of the witness's answer, whatever the status."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return answer.status, answer.headers.get_content_type(), _text(answer)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers.get_content_type(), _text(error)
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise WitnessError(f"the witness at {url} cannot be reached: {reason}") from None


def _text(answer: IO[bytes]) -> str:
    return answer.read(MAX_ANSWER).decode("utf-8", "replace")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


# --- small helpers --------------------------------------------------------------------


def _line(message: str) -> str:
    return message if message.endswith("\n") else message + "\n"


def _write_atomically(path: Path, data: bytes, exclusive: bool = False) -> None:
    """Write a whole file or nothing (a temporary file, synced, renamed over it), readable
    by its owner only; ``exclusive``: fail if it already exists."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            os.link(temporary, path)  # FileExistsError if another made it first
            os.unlink(temporary)
        else:
            os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
