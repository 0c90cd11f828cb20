"""The witness, a real separate process: it co-signs a log's checkpoint only if the tree
grew from the last one it co-signed, so a record rolled back to an older backup, or a
forked one, gets no cosignature; and it says which checkpoint it last vouched for, even
after a restart. Checkpoints are built as the audit record builds them: a Merkle root over
leaf hashes (random here), signed by the log's key as a C2SP signed note."""

from __future__ import annotations

import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.audit import merkle, notes
from adapters.audit.witness import (
    SIZE_TYPE,
    WitnessConflict,
    WitnessError,
    add_checkpoint,
    latest_checkpoint,
)
from tests.witness import RunningWitness, start_witness

ORIGIN = "kringloop.test/audit-record"


@dataclass
class Log:
    """A log as the audit record is one: its key, origin and leaf hashes."""

    key: Ed25519PrivateKey
    origin: str
    leaves: list[bytes]

    @property
    def vkey(self) -> str:
        return notes.vkey(self.origin, self.key.public_key())

    def checkpoint(self, size: int | None = None, leaves: list[bytes] | None = None) -> str:
        """The signed checkpoint of the first ``size`` leaves (of ``leaves``, else the
        log's own)."""
        tree = (self.leaves if leaves is None else leaves)[:size]
        text = notes.Checkpoint(self.origin, len(tree), merkle.root(tree)).text()
        return notes.sign_note(text, self.origin, self.key)

    def submit(self, witness: RunningWitness, size: int, old: int) -> list[str]:
        proof = merkle.consistency_proof(self.leaves[:size], old)
        return add_checkpoint(witness.url, self.checkpoint(size), old, proof)


def random_leaves(count: int) -> list[bytes]:
    return [os.urandom(32) for _ in range(count)]


@pytest.fixture
def log() -> Log:
    return Log(Ed25519PrivateKey.generate(), ORIGIN, random_leaves(40))


@pytest.fixture
def witness(tmp_path: Path, log: Log) -> Iterator[RunningWitness]:
    with start_witness(tmp_path / "witness", {log.origin: log.vkey}) as running:
        yield running


def cosigned_at(note: str, cosignatures: list[str], witness: RunningWitness) -> int:
    """The time the witness's cosignature on ``note`` vouches for (it must verify)."""
    signed = notes.add_signatures(note, cosignatures)
    return notes.verify_cosignature(signed, notes.parse_vkey(witness.vkey))


def test_the_first_checkpoint_and_each_consistent_extension_are_cosigned(
    log: Log, witness: RunningWitness
) -> None:
    before = int(time.time())
    first = log.submit(witness, 5, old=0)
    assert cosigned_at(log.checkpoint(5), first, witness) in range(before, int(time.time()) + 1)

    extended = log.submit(witness, 12, old=5)
    assert cosigned_at(log.checkpoint(12), extended, witness) >= before
    with pytest.raises(ValueError, match="does not verify"):  # over one checkpoint only
        cosigned_at(log.checkpoint(5), extended, witness)

    again = log.submit(witness, 12, old=12)  # the same checkpoint again: cosigned again
    assert cosigned_at(log.checkpoint(12), again, witness) >= before
    assert log.submit(witness, 13, old=12), "one leaf more"


def test_a_rolled_back_record_gets_no_cosignature(log: Log, witness: RunningWitness) -> None:
    log.submit(witness, 12, old=0)

    with pytest.raises(WitnessError) as smaller:  # a smaller tree, sent from the latest size
        add_checkpoint(witness.url, log.checkpoint(5), 12, [])
    assert smaller.value.status == 400
    with pytest.raises(WitnessConflict) as behind:  # a restored store, sent from its own
        log.submit(witness, 8, old=5)
    assert behind.value.size == 12, "the witness names the size it holds"
    with pytest.raises(WitnessConflict) as forgotten:  # a store that forgot it was witnessed
        log.submit(witness, 8, old=0)
    assert forgotten.value.size == 12


def test_another_tree_of_the_same_size_is_refused(log: Log, witness: RunningWitness) -> None:
    log.submit(witness, 12, old=0)
    other = log.leaves[:11] + random_leaves(1)

    with pytest.raises(WitnessError) as refused:
        add_checkpoint(witness.url, log.checkpoint(12, other), 12, [])
    assert refused.value.status == 409
    assert not isinstance(refused.value, WitnessConflict), "no other size to retry from"
    assert "fork" in str(refused.value)


def test_a_fork_is_refused_with_422(log: Log, witness: RunningWitness) -> None:
    log.submit(witness, 5, old=0)
    fork = log.leaves[:4] + random_leaves(8)  # leaf 5 differs: not an extension of 5

    with pytest.raises(WitnessError) as refused:
        add_checkpoint(witness.url, log.checkpoint(12, fork), 5, merkle.consistency_proof(fork, 5))
    assert refused.value.status == 422
    with pytest.raises(WitnessError) as no_proof:  # the true tree, but a proof of another
        add_checkpoint(witness.url, log.checkpoint(12), 5, merkle.consistency_proof(fork, 5))
    assert no_proof.value.status == 422
    assert log.submit(witness, 12, old=5), "the true extension is still cosigned"


def test_a_wrong_old_size_gets_409_with_the_witness_size(log: Log, witness: RunningWitness) -> None:
    log.submit(witness, 12, old=0)

    with pytest.raises(WitnessConflict) as ahead:
        log.submit(witness, 20, old=15)
    assert ahead.value.size == 12
    assert "409" in str(ahead.value)
    assert log.submit(witness, 20, old=ahead.value.size), "resent from the size it named"


def test_an_unknown_log_or_another_key_is_refused(log: Log, witness: RunningWitness) -> None:
    stranger = Log(Ed25519PrivateKey.generate(), "elsewhere.test/log", log.leaves)
    with pytest.raises(WitnessError) as unknown:
        stranger.submit(witness, 5, old=0)
    assert unknown.value.status == 404

    impostor = Log(Ed25519PrivateKey.generate(), ORIGIN, log.leaves)  # same name, other key
    with pytest.raises(WitnessError) as forged:
        impostor.submit(witness, 5, old=0)
    assert forged.value.status == 403
    assert latest_checkpoint(witness.url, ORIGIN) is None, "nothing was stored"


def test_malformed_requests_are_refused_with_400(log: Log, witness: RunningWitness) -> None:
    checkpoint = log.checkpoint(5).encode()
    bodies = {
        "no old line": b"5\n\n" + checkpoint,
        "a leading zero": b"old 05\n\n" + checkpoint,
        "no empty line": b"old 0\n" + checkpoint,
        "a proof from size 0": b"old 0\n" + b"A" * 43 + b"=\n\n" + checkpoint,
        "a proof line not base64": b"old 0\n!!!\n\n" + checkpoint,
        "not a signed note": b"old 0\n\n" + ORIGIN.encode() + b"\nno signature\n",
        "not UTF-8": b"old 0\n\n" + ORIGIN.encode() + b"\n\xff\n",
    }
    for why, body in bodies.items():
        request = urllib.request.Request(witness.url + "/add-checkpoint", data=body)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 400, why
    with pytest.raises(WitnessError) as larger:
        add_checkpoint(witness.url, log.checkpoint(5), 6, merkle.consistency_proof(log.leaves, 6))
    assert larger.value.status == 400, "an old size above the checkpoint's"


def test_the_witness_says_which_checkpoint_it_last_cosigned(
    log: Log, witness: RunningWitness
) -> None:
    assert latest_checkpoint(witness.url, ORIGIN) is None
    log.submit(witness, 5, old=0)
    log.submit(witness, 12, old=5)

    latest = latest_checkpoint(witness.url, ORIGIN)
    assert latest is not None
    text = notes.verify_note(latest, notes.parse_vkey(log.vkey))
    assert notes.parse_checkpoint(text).size == 12
    assert text == notes.split_note(log.checkpoint(12))[0]
    assert notes.verify_cosignature(latest, notes.parse_vkey(witness.vkey)) > 0
    witness_signatures = [
        s for s in notes.split_note(latest)[1] if s.name == notes.parse_vkey(witness.vkey).name
    ]
    assert len(witness_signatures) == 1, "its own cosignature, once"


def test_the_witness_remembers_across_a_restart(tmp_path: Path, log: Log) -> None:
    state = tmp_path / "witness"
    with start_witness(state, {log.origin: log.vkey}) as first:
        log.submit(first, 12, old=0)
        vkey = first.vkey
    assert {p.stat().st_mode & 0o777 for p in state.rglob("*") if p.is_file()} <= {0o600}

    with start_witness(state, {log.origin: log.vkey}) as second:
        assert second.vkey == vkey, "the same key"
        with pytest.raises(WitnessConflict) as rolled_back:
            log.submit(second, 8, old=0)
        assert rolled_back.value.size == 12
        latest = latest_checkpoint(second.url, ORIGIN)
        assert latest is not None
        assert notes.parse_checkpoint(notes.split_note(latest)[0]).size == 12
        assert cosigned_at(log.checkpoint(20), log.submit(second, 20, old=12), second) > 0


def test_two_requests_from_one_size_one_is_cosigned(log: Log, witness: RunningWitness) -> None:
    """Checking the old size and storing the new checkpoint are one step: of two
    extensions sent from the same size at once, exactly one is co-signed, and the other
    learns that one's size."""
    log.submit(witness, 5, old=0)
    outcomes: dict[int, object] = {}

    def send(size: int) -> None:
        try:
            outcomes[size] = log.submit(witness, size, old=5)
        except WitnessError as error:
            outcomes[size] = error

    threads = [threading.Thread(target=send, args=(size,)) for size in (8, 12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    won = [size for size, outcome in outcomes.items() if isinstance(outcome, list)]
    lost = [outcome for outcome in outcomes.values() if isinstance(outcome, WitnessConflict)]
    assert len(won) == 1, outcomes
    assert len(lost) == 1, outcomes
    assert lost[0].size == won[0]
    latest = latest_checkpoint(witness.url, ORIGIN)
    assert latest is not None
    assert notes.parse_checkpoint(notes.split_note(latest)[0]).size == won[0]


def test_the_conflict_answer_is_the_specified_size_body(log: Log, witness: RunningWitness) -> None:
    """409 answers text/x.tlog.size, the size and a newline (C2SP tlog-witness)."""
    log.submit(witness, 12, old=0)
    request = urllib.request.Request(
        witness.url + "/add-checkpoint", data=b"old 3\n\n" + log.checkpoint(20).encode()
    )
    with pytest.raises(urllib.error.HTTPError) as conflict:
        urllib.request.urlopen(request, timeout=10)
    assert conflict.value.code == 409
    assert conflict.value.headers.get_content_type() == SIZE_TYPE
    assert conflict.value.read() == b"12\n"


def test_one_state_folder_is_served_by_one_process(
    tmp_path: Path, log: Log, witness: RunningWitness
) -> None:
    """A second witness on the same state would keep its own view of each log: it does
    not start."""
    with pytest.raises(AssertionError, match="another witness process serves"):
        start_witness(tmp_path / "witness", {log.origin: log.vkey})
