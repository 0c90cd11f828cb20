"""The audit signing key: Ed25519, kept in the data folder, or (KRINGLOOP_SIGNING_KEY) in a
file outside it that only the sealing service can read; its public half is what an auditor
needs to check exports and sealed chain heads offline. Beside a key file outside the data
folder lies its public half (``<key>.pub``), so whoever cannot read the key still checks
the seals it made."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PREFIX = "ed25519:"
ENV = "KRINGLOOP_SIGNING_KEY"  # also a field of adapters.settings.Settings (documented there)


class KeyUnavailable(Exception):
    """This process may not read (or create) the signing key: it cannot seal or sign."""


def key_path(home: Path) -> Path:
    configured = os.environ.get(ENV, "").strip()
    return Path(configured).expanduser() if configured else home / "audit" / "signing-key.pem"


def public_path(home: Path) -> Path:
    path = key_path(home)
    return path.with_name(path.name + ".pub")


def signing_key(home: Path) -> Ed25519PrivateKey:
    """The signing key, created (readable by its owner only) on first use; KeyUnavailable
    if this process may not read it, or may not create it where KRINGLOOP_SIGNING_KEY
    points."""
    path = key_path(home)
    try:
        if path.exists():
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise ValueError(f"{path} is not an Ed25519 key")
            return loaded
        if os.environ.get(ENV, "").strip() and (
            not path.parent.is_dir() or public_path(home).exists()
        ):  # a key made elsewhere, or one that is gone: never a new one in its place
            raise KeyUnavailable(f"no signing key at {path} that this process may read")
        path.parent.mkdir(parents=True, exist_ok=True)
        return _create(path)
    except PermissionError as error:
        raise KeyUnavailable(f"no access to the signing key at {path} ({error.strerror})") from None


def public_key_text(home: Path) -> str | None:
    """The signing key's public half: from the key if this process may read it, else from
    the ``.pub`` file beside it; None if neither is there (nothing is created)."""
    path = key_path(home)
    try:
        if path.exists() and os.access(path, os.R_OK):
            return public_text(signing_key(home))
        public = public_path(home)
        return public.read_text().strip() if public.exists() else None
    except (KeyUnavailable, PermissionError):
        return None


def _create(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    if os.environ.get(ENV, "").strip():  # outside the data folder: its public half beside it
        public = path.with_name(path.name + ".pub")
        public.write_text(public_text(key) + "\n")
        public.chmod(0o644)  # anyone may check seals with it
    return key


def public_text(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PREFIX + base64.b64encode(raw).decode()


def parse_public(text: str) -> Ed25519PublicKey:
    """A public key as `audit public-key` prints it."""
    body = text.strip().removeprefix(PREFIX)
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(body, validate=True))
    except ValueError as error:
        raise ValueError(f"not an Ed25519 public key ({error})") from None


def sign(key: Ed25519PrivateKey, data: bytes) -> str:
    return base64.b64encode(key.sign(data)).decode()


def verify(public: Ed25519PublicKey, data: bytes, signature: str) -> bool:
    try:
        public.verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True
