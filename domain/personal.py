"""Personal data in the record, erasable: each data subject's data is sealed with a key of
their own (crypto-shredding).

A :class:`Personal` value is what an event holds where a person's data belongs: whose data
it is (the subject, a pseudonymous identity such as ``broker-anna``) and the data sealed
with that subject's key. The clear text is never in an event, a snapshot or a read model;
a door that shows it asks the keyring (``Keyring.reveal``), and once the subject's key is
destroyed (``kringloop privacy forget``) nobody can: the door shows "[verwijderd]". The
stored bytes do not change, so the hash chain over them verifies as before.

The keyring itself (AES-GCM keys per subject, kept outside the event store, wrapped with a
master key) is the adapters' (``adapters.keyring``); the domain only seals, through
the keyring the engine was given, while a command decides (:func:`sealing`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from eventsourcing.persistence import Transcoding

from domain.errors import RuleError
from domain.messages import N_


@dataclass(frozen=True)
class Personal:
    """One piece of one person's data, as stored: sealed with the subject's own key."""

    subject: str
    sealed: str

    def __str__(self) -> str:  # never the sealed text in a log line or a plain export
        return f"[personal data of {self.subject}]"


class Keyring(Protocol):
    """Seals a subject's data with the subject's key (made on first use); reveals it while
    the key exists; forgets the key for good."""

    def seal(self, subject: str, text: str) -> Personal: ...

    def reveal(self, values: Iterable[Personal]) -> dict[Personal, str | None]:
        """Each value's clear text, or None where its subject's key is destroyed."""
        ...

    def forget(self, subject: str) -> bool:
        """Destroy the subject's key; False if there was none."""
        ...


class NoKeyring:
    """The keyring of an engine opened without one: it holds no personal data."""

    def seal(self, subject: str, text: str) -> Personal:
        raise RuleError(N_("this store keeps no personal data: it was opened without a keyring"))

    def reveal(self, values: Iterable[Personal]) -> dict[Personal, str | None]:
        return dict.fromkeys(values)

    def forget(self, subject: str) -> bool:
        return False


_KEYRING: ContextVar[Keyring | None] = ContextVar("kringloop_keyring", default=None)


@contextmanager
def sealing(keyring: Keyring) -> Iterator[None]:
    """While a command decides: personal data it records is sealed with this keyring."""
    token = _KEYRING.set(keyring)
    try:
        yield
    finally:
        _KEYRING.reset(token)


def seal(subject: str, text: str) -> Personal:
    """Seal a subject's data with their key (inside :func:`sealing`)."""
    return (_KEYRING.get() or NoKeyring()).seal(subject, text)


def personal_values(value: Any) -> Iterator[Personal]:
    """Every Personal value inside a value (lists and dicts included)."""
    if isinstance(value, Personal):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from personal_values(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from personal_values(item)


def as_plain(value: Any) -> Any:
    """A value with each Personal value in it replaced by a marker naming only its subject
    (for the read models' decision log: no sealed text, no clear text)."""
    if isinstance(value, Personal):
        return {"personal_data_of": value.subject}
    if isinstance(value, dict):
        return {k: as_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_plain(v) for v in value]
    return value


class PersonalAsDict(Transcoding):
    type = Personal
    name = "personal"

    def encode(self, obj: Personal) -> dict[str, str]:
        return {"subject": obj.subject, "sealed": obj.sealed}

    def decode(self, data: dict[str, str]) -> Personal:
        return Personal(subject=data["subject"], sealed=data["sealed"])
