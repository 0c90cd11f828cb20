"""The audit signing key: Ed25519, kept in the data folder; its public half is what an
auditor needs to check exports and sealed chain heads offline."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PREFIX = "ed25519:"


def key_path(home: Path) -> Path:
    return home / "audit" / "signing-key.pem"


def signing_key(home: Path) -> Ed25519PrivateKey:
    """The data folder's signing key, created (readable by its owner only) on first use."""
    path = key_path(home)
    if path.exists():
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(loaded, Ed25519PrivateKey), f"{path} is not an Ed25519 key"
        return loaded
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
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
