"""Signed notes, checkpoints and cosignatures as C2SP specifies them, with Ed25519 keys:
the text forms in which the audit tree's head leaves the installation, so that standard
transparency-log tooling (witnesses, verifiers) reads and checks them.

- c2sp.org/signed-note: a text ending in a newline, a blank line, and one or more lines
  "— <key name> base64(key ID || signature)"; keys travel as verifier keys (vkeys)
  "<name>+<hex key ID>+base64(signature type || public key)".
- c2sp.org/tlog-checkpoint: a note whose text is the log's origin, tree size and
  base64 root hash, one a line, then optional extension lines.
- c2sp.org/tlog-cosignature (the Ed25519 "cosignature/v1" type, 0x04): a witness's note
  signature over "cosignature/v1\\ntime <t>\\n" and the checkpoint text, carrying the time
  t (POSIX seconds) before the signature.

Key IDs and vkeys are those of golang.org/x/mod/sumdb/note. Pure functions, no I/O; every
refusal is a ValueError saying what is wrong."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
COSIGNATURE_V1 = 0x04

_PREFIX = "\u2014 "  # em dash and a space begin every signature line (signed-note, Format)
_MAX_SIGNATURES = 100  # the spec asks verifiers for at least 16; Go's note package takes 100
_MAX_TIMESTAMP = 2**63 - 1  # tlog-cosignature: a timestamp "MUST NOT exceed 2^63 - 1"
_MAX_SIZE = 2**64 - 1  # tree sizes are uint64 in every tlog implementation
_SIGNATURE_LENGTH = 64  # Ed25519, RFC 8032
_COSIGNED_LENGTH = 8 + _SIGNATURE_LENGTH  # u64 timestamp || Ed25519 signature
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_HEX_ID = re.compile(r"[0-9a-f]{8}")


@dataclass(frozen=True)
class Verifier:
    """A public key as a vkey names it: who signs, under which key ID and signature type."""

    name: str
    key_id: bytes
    alg: int
    public: Ed25519PublicKey


@dataclass(frozen=True)
class Signature:
    """One signature line of a note, decoded; ``line`` is the line as it stands, with its
    newline, ready for add_signatures."""

    name: str
    key_id: bytes
    signature: bytes
    line: str


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint's text (c2sp.org/tlog-checkpoint, "Note text"): the log's
    origin, its tree size and the RFC 6962 root hash at that size, then any extension
    lines. Built only valid: ValueError otherwise."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin:
            raise ValueError("a checkpoint's origin must not be empty")
        _check_line(self.origin, "origin")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise ValueError(f"a checkpoint's tree size must be an integer, not {self.size!r}")
        if not 0 <= self.size <= _MAX_SIZE:
            raise ValueError(f"a checkpoint's tree size must be 0 to 2^64-1, not {self.size}")
        if not isinstance(self.root, bytes) or len(self.root) != 32:
            raise ValueError("a checkpoint's root hash must be 32 bytes (SHA-256)")
        for extension in self.extensions:
            if not extension:
                raise ValueError("a checkpoint's extension lines must not be empty")
            _check_line(extension, "extension line")

    def text(self) -> str:
        """The note text: origin, size, base64 root and extension lines, each ending in a
        newline."""
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)


def key_id(name: str, alg: int, public_raw: bytes) -> bytes:
    """SHA-256(key name || 0x0A || signature type || public key)[:4] (signed-note,
    Signatures; tlog-cosignature, Format, for type 0x04)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_raw).digest()[:4]


def vkey(name: str, public: Ed25519PublicKey, alg: int = ED25519) -> str:
    """The verifier key "<name>+<hex key ID>+base64(type || key)" (signed-note, Verifier
    keys): ED25519 for the audit key's note signatures, COSIGNATURE_V1 for a witness."""
    _check_name(name)
    _check_alg(alg)
    raw = public.public_bytes_raw()
    return f"{name}+{key_id(name, alg, raw).hex()}+{_b64(bytes([alg]) + raw)}"


def parse_vkey(text: str) -> Verifier:
    """The Verifier a vkey names; ValueError if it is malformed, of another signature type
    than ED25519 or COSIGNATURE_V1, or its key ID is not the one its name and key give."""
    parts = text.split("+", 2)  # base64 may hold '+' too; a name and a hex ID do not
    if len(parts) != 3:
        raise ValueError(f"a verifier key has three parts joined by '+': {text!r}")
    name, hex_id, encoded = parts
    _check_name(name)
    if not _HEX_ID.fullmatch(hex_id):
        raise ValueError(f"a verifier key's ID is 8 lowercase hex digits, not {hex_id!r}")
    material = _unb64(encoded, "verifier key")
    if len(material) != 33:
        raise ValueError(f"an Ed25519 verifier key holds 33 bytes, not {len(material)}")
    alg, raw = material[0], material[1:]
    _check_alg(alg)
    expected = key_id(name, alg, raw)
    if expected.hex() != hex_id:
        raise ValueError(
            f"the verifier key for {name} says key ID {hex_id}, its key gives {expected.hex()}"
        )
    return Verifier(name, expected, alg, Ed25519PublicKey.from_public_bytes(raw))


def sign_note(text: str, name: str, key: Ed25519PrivateKey) -> str:
    """``text`` signed as a note by ``key`` under ``name`` (signed-note, Ed25519
    signatures): the text, a blank line and "— <name> base64(key ID || signature)"."""
    _check_text(text)
    _check_name(name)
    kid = key_id(name, ED25519, key.public_key().public_bytes_raw())
    return text + "\n" + _line(name, kid + key.sign(text.encode()))


def split_note(note: str) -> tuple[str, list[Signature]]:
    """A signed note's text (with its final newline) and its signature lines, unverified
    (signed-note, Format: the text ends at the note's last blank line). ValueError if the
    note is not one."""
    _check_characters(note, "a signed note")
    split = note.rfind("\n\n")
    if split < 0:
        raise ValueError("a signed note has a blank line before its signatures: none found")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise ValueError("a signed note ends in signature lines, each ending in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > _MAX_SIGNATURES:
        raise ValueError(f"a signed note has at most {_MAX_SIGNATURES} signatures here")
    return text, [_parse_line(line) for line in lines]


def verify_note(note: str, verifier: Verifier) -> str:
    """The note's text, if it carries a valid signature of ``verifier`` (its name and key
    ID) and no invalid one (signed-note, Signatures: a known key's signatures must all
    verify; other keys' lines are ignored). A COSIGNATURE_V1 verifier checks
    cosignatures. ValueError otherwise."""
    text, signatures = split_note(note)
    _verified_times(text, signatures, verifier)
    return text


def add_signatures(note: str, lines: Sequence[str]) -> str:
    """``note`` with further signature lines appended, such as a witness's cosignature;
    each line is checked for form (not for its signature) and one the note already has is
    not added twice. ValueError if the note or a line is malformed."""
    _, present = split_note(note)
    seen = {signature.line for signature in present}
    added: list[str] = []
    for line in lines:
        signature = _parse_line(line.removesuffix("\n"))
        if signature.line not in seen:
            seen.add(signature.line)
            added.append(signature.line)
    if len(present) + len(added) > _MAX_SIGNATURES:
        raise ValueError(f"a signed note has at most {_MAX_SIGNATURES} signatures here")
    return note + "".join(added)


def parse_checkpoint(text: str) -> Checkpoint:
    """The Checkpoint a note text states (c2sp.org/tlog-checkpoint, Note text): origin,
    decimal size without leading zeros, base64 of a 32-byte root, then non-empty extension
    lines. Pass the text verify_note returned, never an unverified note's. ValueError if
    the text is not a checkpoint."""
    _check_text(text)
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise ValueError("a checkpoint has at least three lines: origin, size, root hash")
    origin, size, encoded, *extensions = lines
    if not _DECIMAL.fullmatch(size):
        raise ValueError(f"a checkpoint's size is decimal without leading zeros: {size!r}")
    return Checkpoint(origin, int(size), _unb64(encoded, "root hash"), tuple(extensions))


def cosign(checkpoint_text: str, name: str, key: Ed25519PrivateKey, timestamp: int) -> str:
    """A witness's cosignature/v1 line for a checkpoint text (c2sp.org/tlog-cosignature,
    Format and Ed25519 signed message): "— <name> base64(key ID || u64 timestamp ||
    signature)", the key ID of type 0x04, the signature over "cosignature/v1\\ntime
    <timestamp>\\n" and the checkpoint text. ValueError if the text is not a checkpoint or
    the time is not 0 to 2^63-1."""
    parse_checkpoint(checkpoint_text)
    _check_name(name)
    if isinstance(timestamp, bool) or not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise ValueError(f"a cosignature's timestamp is 0 to 2^63-1, not {timestamp!r}")
    kid = key_id(name, COSIGNATURE_V1, key.public_key().public_bytes_raw())
    signature = key.sign(_cosigned_message(checkpoint_text, timestamp))
    return _line(name, kid + timestamp.to_bytes(8, "big") + signature)


def verify_cosignature(note: str, witness: Verifier) -> int:
    """The time (POSIX seconds) of the witness's valid cosignature/v1 in a signed
    checkpoint, the latest if it has several. ValueError if the note is no checkpoint,
    the witness key is not of type COSIGNATURE_V1, it has no cosignature there, or one of
    its lines there does not verify. The log's own signature is verify_note's business."""
    if witness.alg != COSIGNATURE_V1:
        raise ValueError(
            f"{witness.name}'s key is of signature type {witness.alg:#04x}, "
            f"a witness's is {COSIGNATURE_V1:#04x} (cosignature/v1)"
        )
    text, signatures = split_note(note)
    parse_checkpoint(text)
    return max(_verified_times(text, signatures, witness))


def _verified_times(text: str, signatures: Sequence[Signature], verifier: Verifier) -> list[int]:
    """Verify every line of ``verifier`` in the note: for a note key the times are 0s;
    for a cosigner the cosignatures' timestamps. ValueError if none or one fails."""
    mine = [s for s in signatures if s.name == verifier.name and s.key_id == verifier.key_id]
    if not mine:
        raise ValueError(f"the note has no signature by {verifier.name} ({verifier.key_id.hex()})")
    times: list[int] = []
    for signature in mine:
        time = _verified_time(text, signature.signature, verifier)
        if time is None:
            raise ValueError(
                f"the signature by {verifier.name} ({verifier.key_id.hex()}) does not verify"
            )
        times.append(time)
    return times


def _verified_time(text: str, signature: bytes, verifier: Verifier) -> int | None:
    if verifier.alg == COSIGNATURE_V1:
        if len(signature) != _COSIGNED_LENGTH:
            return None
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > _MAX_TIMESTAMP:
            return None
        signed, signature = _cosigned_message(text, timestamp), signature[8:]
    else:
        if len(signature) != _SIGNATURE_LENGTH:
            return None
        timestamp, signed = 0, text.encode()
    try:
        verifier.public.verify(signature, signed)
    except InvalidSignature:
        return None
    return timestamp


def _cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    """tlog-cosignature, Ed25519 signed message: header, time line, checkpoint text."""
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


def _line(name: str, payload: bytes) -> str:
    return f"{_PREFIX}{name} {_b64(payload)}\n"


def _parse_line(line: str) -> Signature:
    _check_characters(line, "a signature line")
    if "\n" in line or not line.startswith(_PREFIX):
        raise ValueError(f"a signature line is '— <key name> <base64>': {line!r}")
    name, _, encoded = line[len(_PREFIX) :].partition(" ")
    _check_name(name)
    payload = _unb64(encoded, "signature")
    if len(payload) < 5:
        raise ValueError(f"a signature holds a 4-byte key ID and a signature: {line!r}")
    return Signature(name, payload[:4], payload[4:], line + "\n")


def _check_name(name: str) -> None:
    """signed-note, Format: key names are non-empty, without Unicode spaces or '+'."""
    if not name or "+" in name or any(c.isspace() for c in name):
        raise ValueError(f"a key name is non-empty, without spaces or '+': {name!r}")
    _check_characters(name, "a key name")


def _check_alg(alg: int) -> None:
    if alg not in (ED25519, COSIGNATURE_V1):
        raise ValueError(f"signature type {alg!r} is neither Ed25519 (0x01) nor 0x04")


def _check_text(text: str) -> None:
    """signed-note, Format: a note's text ends in a newline."""
    if not text.endswith("\n"):
        raise ValueError("a note's text ends in a newline")
    _check_characters(text, "a note's text")


def _check_line(value: str, what: str) -> None:
    if "\n" in value:
        raise ValueError(f"a checkpoint's {what} is one line: {value!r}")
    _check_characters(value, f"a checkpoint's {what}")


def _check_characters(value: str, what: str) -> None:
    """signed-note, Format: valid UTF-8 and no control characters but newline."""
    if any(c < " " and c != "\n" for c in value):
        raise ValueError(f"{what} holds a control character")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not valid UTF-8") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    """Standard base64 (RFC 4648 section 4), canonical only: one encoding per value."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"the {what} is not base64: {text!r}") from None
    if not text or _b64(data) != text:
        raise ValueError(f"the {what} is not canonical base64: {text!r}")
    return data
