"""Signed notes, checkpoints and cosignatures read and written exactly as C2SP and Go's
note package have them: their published keys, signatures and notes reproduce byte for
byte, and a note altered in its text, signature, key ID or key is refused."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.audit.notes import (
    COSIGNATURE_V1,
    ED25519,
    Checkpoint,
    add_signatures,
    cosign,
    key_id,
    parse_checkpoint,
    parse_vkey,
    sign_note,
    split_note,
    verify_cosignature,
    verify_note,
    vkey,
)

# golang.org/x/mod/sumdb/note, note_test.go (TestNewVerifier, TestNewSigner, TestSign,
# TestOpen): Peter Neumann's key pair, a note he signed, and Enoch Root's signature of it.
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
KID = bytes.fromhex("c74f20a3")
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKv"
    "qfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTG"
    "wnWLox33WWd1RvMc+QQ=\n"
)

# C2SP signed-note.md, "Verifier keys", Example.
FOO_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
FOO_NOTE = (
    "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfX"
    "ppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)

# C2SP tlog-checkpoint.md and tlog-cosignature.md: the example checkpoint, its log
# signature and a witness's cosignature, and the message that cosignature signs.
SOFA = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SOFA_NOTE = (
    SOFA + "\n— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe"
    "4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dl"
    "rDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)
SOFA_COSIGNED_MESSAGE = (
    b"cosignature/v1\n"
    b"time 1679315147\n"
    b"example.com/behind-the-sofa\n"
    b"20852163\n"
    b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)


def _peter() -> Ed25519PrivateKey:
    material = base64.b64decode(PETER_SKEY.split("+", 4)[4])
    assert material[0] == ED25519
    return Ed25519PrivateKey.from_private_bytes(material[1:])


def _witness(seed: int = 7) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


def test_the_key_id_and_vkey_of_go_s_example_key() -> None:
    public = _peter().public_key()
    raw = public.public_bytes_raw()
    assert key_id("PeterNeumann", ED25519, raw) == KID
    assert vkey("PeterNeumann", public) == PETER_VKEY
    parsed = parse_vkey(PETER_VKEY)
    assert (parsed.name, parsed.key_id, parsed.alg) == ("PeterNeumann", KID, ED25519)
    assert parsed.public.public_bytes_raw() == raw


def test_signing_reproduces_go_s_signed_note() -> None:
    assert sign_note(TEXT, "PeterNeumann", _peter()) == TEXT + "\n" + PETER_SIG


def test_the_spec_s_and_go_s_notes_verify() -> None:
    assert verify_note(FOO_NOTE, parse_vkey(FOO_VKEY)) == "This is an example message.\n"
    both = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert verify_note(both, parse_vkey(PETER_VKEY)) == TEXT
    assert verify_note(both, parse_vkey(ENOCH_VKEY)) == TEXT


def test_a_note_splits_into_its_text_and_signature_lines() -> None:
    text, signatures = split_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG)
    assert text == TEXT
    assert [(s.name, s.key_id.hex(), len(s.signature), s.line) for s in signatures] == [
        ("PeterNeumann", "c74f20a3", 64, PETER_SIG),
        ("EnochRoot", "af0cfe78", 64, ENOCH_SIG),
    ]


def test_the_text_ends_at_the_last_blank_line() -> None:
    text = "first\n\nsecond\n"
    note = sign_note(text, "PeterNeumann", _peter())
    assert split_note(note)[0] == text
    assert verify_note(note, parse_vkey(PETER_VKEY)) == text


def test_no_mangling_of_go_s_example_vkey_is_accepted() -> None:
    """note_test.go's TestNewVerifier: every proper substring, every byte incremented."""
    n = len(PETER_VKEY)
    substrings = [PETER_VKEY[i:j] for i in range(n) for j in range(i + 1, n + 1)]
    incremented = [
        PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1 :] for i in range(n)
    ]
    manglings = [m for m in substrings + incremented if m != PETER_VKEY]
    assert len(manglings) == n * (n + 1) // 2 - 1 + n
    for mangled in manglings:
        with pytest.raises(ValueError, match=r"key|base64|bytes|type"):
            parse_vkey(mangled)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        # Go's own: a wrong-length key (its base64 not canonical) and an unknown type,
        # each with its key ID adjusted; then a canonical wrong-length key.
        ("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", "base64"),
        ("PeterNeumann+5bdbe860+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWAA==", "33 bytes"),
        ("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "type"),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key ID"),
        ("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "lowercase"),
        ("EnochRoot+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key ID"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "name"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW+x", "base64"),
        ("PeterNeumann+c74f20a3", "three"),
    ],
)
def test_a_bad_vkey_is_refused_with_its_reason(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_vkey(text)


def test_a_vkey_names_its_signature_type() -> None:
    public = _witness().public_key()
    plain, witness = vkey("w.example/1", public), vkey("w.example/1", public, COSIGNATURE_V1)
    assert plain.split("+")[2].startswith("A")  # 0x01
    assert witness.split("+")[2].startswith("B")  # 0x04
    assert parse_vkey(witness).alg == COSIGNATURE_V1
    assert parse_vkey(witness).key_id == key_id(
        "w.example/1", COSIGNATURE_V1, public.public_bytes_raw()
    )
    assert parse_vkey(plain).key_id != parse_vkey(witness).key_id
    with pytest.raises(ValueError, match="type"):
        vkey("w.example/1", public, 0x02)


@pytest.mark.parametrize(
    "note",
    [
        # note_test.go's TestOpen, "Invalid encoded message syntax"
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        "\udcff" + TEXT + "\n" + PETER_SIG,  # Go's "\xff": not UTF-8
        TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name"),
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        # and more of the same kind
        TEXT + "\n" + PETER_SIG.replace("— ", "- "),
        TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Peter+Neumann"),
        TEXT + "\n" + PETER_SIG.replace("=\n", "\n"),
        TEXT + "\n" + PETER_SIG + "\n",
        TEXT + "\n" + "— PeterNeumann AAAA\n",
        TEXT + "\n" + PETER_SIG * 101,
    ],
)
def test_a_malformed_note_is_refused(note: str) -> None:
    with pytest.raises(ValueError, match=r"note|signature|key name|base64|UTF-8"):
        split_note(note)
    with pytest.raises(ValueError, match=r"note|signature|key name|base64|UTF-8"):
        verify_note(note, parse_vkey(PETER_VKEY))


def test_a_tampered_note_does_not_verify() -> None:
    peter = parse_vkey(PETER_VKEY)
    note = TEXT + "\n" + PETER_SIG
    cases = {
        "text": note.replace("answer", "Answer"),
        # note_test.go's "Invalid signature": Go's index 60 counts the em dash's 3 bytes
        "signature": TEXT + "\n" + PETER_SIG[:58] + "ABCD" + PETER_SIG[58:],
        "key id": note.replace("x08g", "xxxx"),  # note_test.go's wrongHash
        "name": note.replace("PeterNeumann", "CarmenSandiego"),
        "unsigned": TEXT + "\n" + ENOCH_SIG,
        "one bad of two": note + PETER_SIG.replace("x08go/ZJ", "x08go/ZK"),
    }
    refused = {}
    for case, tampered in cases.items():
        with pytest.raises(ValueError, match="signature") as refusal:
            verify_note(tampered, peter)
        refused[case] = str(refusal.value)
    assert refused["signature"] == "the signature by PeterNeumann (c74f20a3) does not verify"
    assert refused["key id"] == "the note has no signature by PeterNeumann (c74f20a3)"
    assert refused["one bad of two"] == refused["signature"]


def test_another_key_under_the_same_name_does_not_verify() -> None:
    impostor = vkey("PeterNeumann", _witness().public_key())
    with pytest.raises(ValueError, match="no signature"):
        verify_note(TEXT + "\n" + PETER_SIG, parse_vkey(impostor))


def test_signing_needs_a_note_text_and_a_key_name() -> None:
    for text in ("no newline", "", "tab\there\n"):
        with pytest.raises(ValueError, match="text"):
            sign_note(text, "PeterNeumann", _peter())
    for name in ("", "a+b", "a b", "a\u00a0b"):
        with pytest.raises(ValueError, match="key name"):
            sign_note(TEXT, name, _peter())


def test_signature_lines_are_appended_once_each() -> None:
    note = TEXT + "\n" + PETER_SIG
    assert add_signatures(note, [ENOCH_SIG]) == note + ENOCH_SIG
    assert add_signatures(note, [ENOCH_SIG.rstrip("\n")]) == note + ENOCH_SIG
    assert add_signatures(note, [PETER_SIG, ENOCH_SIG, ENOCH_SIG]) == note + ENOCH_SIG
    assert add_signatures(note, []) == note
    for bad in ("not a signature", ENOCH_SIG + ENOCH_SIG, "— Enoch Root AAAAAAA=\n"):
        with pytest.raises(ValueError, match=r"signature|base64"):
            add_signatures(note, [bad])
    with pytest.raises(ValueError, match="blank line"):
        add_signatures(TEXT, [ENOCH_SIG])


def test_the_spec_s_checkpoint_reads_and_writes_back() -> None:
    checkpoint = parse_checkpoint(SOFA)
    assert checkpoint == Checkpoint(
        "example.com/behind-the-sofa",
        20852163,
        base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="),
    )
    assert checkpoint.text() == SOFA
    assert parse_checkpoint(split_note(SOFA_NOTE)[0]) == checkpoint
    with_extensions = Checkpoint("o", 0, hashlib.sha256(b"").digest(), ("ext one", "ext 2"))
    assert (
        with_extensions.text()
        == "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next one\next 2\n"
    )
    assert parse_checkpoint(with_extensions.text()) == with_extensions


ROOT = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="


@pytest.mark.parametrize(
    "text",
    [
        f"o\n01\n{ROOT}\n",  # leading zero
        f"o\n00\n{ROOT}\n",
        f"o\n-1\n{ROOT}\n",
        f"o\n+1\n{ROOT}\n",
        f"o\n1_000\n{ROOT}\n",
        f"o\n \n{ROOT}\n",
        f"o\n1 \n{ROOT}\n",
        f"o\n\u0661\n{ROOT}\n",  # an Arabic-Indic one: int() takes it, the spec not
        f"o\n0x10\n{ROOT}\n",
        f"o\n\n{ROOT}\n",
        f"o\n18446744073709551616\n{ROOT}\n",  # 2^64
        "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n",  # 31 bytes
        "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",  # padding left off
        "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n",  # not canonical
        "o\n1\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n",  # URL alphabet
        f"\n1\n{ROOT}\n",  # no origin
        f"o\n1\n{ROOT}",  # no final newline
        f"o\n1\n{ROOT}\n\n",  # an empty extension line
        f"o\n1\n{ROOT}\next\n\n",
        "o\n1\n",
        f"o\t1\n1\n{ROOT}\n",
        "",
    ],
)
def test_a_bad_checkpoint_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"checkpoint|root hash|note"):
        parse_checkpoint(text)


def test_a_checkpoint_is_made_only_valid() -> None:
    root = bytes(32)
    assert Checkpoint("o", 2**64 - 1, root).size == 2**64 - 1
    for origin, size, digest, extensions in [
        ("", 1, root, ()),
        ("a\nb", 1, root, ()),
        ("o", -1, root, ()),
        ("o", 2**64, root, ()),
        ("o", True, root, ()),
        ("o", 1, root[:31], ()),
        ("o", 1, root, ("",)),
        ("o", 1, root, ("two\nlines",)),
    ]:
        with pytest.raises(ValueError, match="checkpoint"):
            Checkpoint(origin, size, digest, extensions)


def test_the_spec_s_cosignature_carries_its_time_before_the_signature() -> None:
    """tlog-cosignature's example: key ID, then the u64 time of its message, then 64 bytes."""
    _, signatures = split_note(SOFA_NOTE)
    witness = signatures[1]
    assert witness.name == "witness.example.com/w1"
    assert len(witness.signature) == 8 + 64
    assert int.from_bytes(witness.signature[:8], "big") == 1679315147
    assert SOFA_COSIGNED_MESSAGE.startswith(b"cosignature/v1\ntime 1679315147\n")


def test_a_cosignature_signs_the_spec_s_message() -> None:
    key = _witness()
    public = key.public_key()
    line = cosign(SOFA, "witness.example.com/w1", key, 1679315147)
    assert line.startswith("— witness.example.com/w1 ")
    assert line.endswith("\n")
    payload = base64.b64decode(line.split(" ")[2])
    expected_id = hashlib.sha256(
        b"witness.example.com/w1\n\x04" + public.public_bytes_raw()
    ).digest()[:4]
    assert payload[:4] == expected_id
    assert payload[4:12] == (1679315147).to_bytes(8, "big")
    public.verify(payload[12:], SOFA_COSIGNED_MESSAGE)  # raises if it signed anything else
    assert len(payload) == 4 + 8 + 64


def test_a_cosigned_checkpoint_verifies_for_the_log_and_the_witness() -> None:
    log, witness_key = _peter(), _witness()
    text = Checkpoint("kringloop.example/audit", 5, hashlib.sha256(b"x").digest()).text()
    signed = sign_note(text, "kringloop.example/audit", log)
    cosigned = add_signatures(
        signed, [cosign(text, "witness.example/w1", witness_key, 1_700_000_000)]
    )
    witness = parse_vkey(vkey("witness.example/w1", witness_key.public_key(), COSIGNATURE_V1))
    log_verifier = parse_vkey(vkey("kringloop.example/audit", log.public_key()))
    assert verify_note(cosigned, log_verifier) == text
    assert verify_cosignature(cosigned, witness) == 1_700_000_000
    assert verify_note(cosigned, witness) == text  # a cosigner's verifier checks its lines
    later = add_signatures(
        cosigned, [cosign(text, "witness.example/w1", witness_key, 1_700_000_600)]
    )
    assert verify_cosignature(later, witness) == 1_700_000_600


def test_a_cosignature_of_another_checkpoint_or_time_is_refused() -> None:
    log, witness_key = _peter(), _witness()
    name = "witness.example/w1"
    witness = parse_vkey(vkey(name, witness_key.public_key(), COSIGNATURE_V1))
    first = Checkpoint("kringloop.example/audit", 5, hashlib.sha256(b"x").digest()).text()
    second = Checkpoint("kringloop.example/audit", 6, hashlib.sha256(b"y").digest()).text()
    line = cosign(first, name, witness_key, 1_700_000_000)
    other = add_signatures(sign_note(second, "kringloop.example/audit", log), [line])
    with pytest.raises(ValueError, match="does not verify"):
        verify_cosignature(other, witness)

    payload = bytearray(base64.b64decode(line.split(" ")[2]))
    payload[11] ^= 1  # the timestamp's last byte
    retimed = f"— {name} {base64.b64encode(bytes(payload)).decode()}\n"
    signed = sign_note(first, "kringloop.example/audit", log)
    with pytest.raises(ValueError, match="does not verify"):
        verify_cosignature(add_signatures(signed, [retimed]), witness)
    with pytest.raises(ValueError, match="no signature"):
        verify_cosignature(signed, witness)


def test_keys_of_one_kind_do_not_stand_for_the_other() -> None:
    """The same Ed25519 key as a note key (0x01) and as a cosigner (0x04) has two key IDs,
    so neither kind of signature passes for the other."""
    key = _witness()
    text = Checkpoint("log.example", 1, bytes(32)).text()
    as_note_key = parse_vkey(vkey("w.example", key.public_key()))
    as_cosigner = parse_vkey(vkey("w.example", key.public_key(), COSIGNATURE_V1))
    signed_by_log = sign_note(text, "log.example", _peter())
    cosigned = add_signatures(signed_by_log, [cosign(text, "w.example", key, 1)])
    with pytest.raises(ValueError, match="no signature"):
        verify_note(cosigned, as_note_key)
    with pytest.raises(ValueError, match="signature type 0x01"):
        verify_cosignature(cosigned, as_note_key)
    with pytest.raises(ValueError, match="no signature"):
        verify_cosignature(sign_note(text, "w.example", key), as_cosigner)


def test_a_cosignature_needs_a_checkpoint_and_a_time_in_range() -> None:
    key = _witness()
    for text in ("one line\n", "o\n01\nAAAA\n", "o\n1\n" + ROOT):
        with pytest.raises(ValueError, match=r"checkpoint|note"):
            cosign(text, "w.example", key, 1)
    for timestamp in (-1, 2**63):
        with pytest.raises(ValueError, match="timestamp"):
            cosign(SOFA, "w.example", key, timestamp)
    assert cosign(SOFA, "w.example", key, 2**63 - 1)
    # A time past 2^63 - 1, however well signed, is no cosignature/v1.
    witness = parse_vkey(vkey("w.example", key.public_key(), COSIGNATURE_V1))
    late = f"cosignature/v1\ntime {2**63}\n{SOFA}".encode()
    payload = witness.key_id + (2**63).to_bytes(8, "big") + key.sign(late)
    line = f"— w.example {base64.b64encode(payload).decode()}\n"
    with pytest.raises(ValueError, match="does not verify"):
        verify_cosignature(add_signatures(SOFA + "\n" + line, []), witness)
    with pytest.raises(ValueError, match="key name"):
        cosign(SOFA, "w example", key, 1)
    plain = "not a checkpoint\n\n" + cosign(SOFA, "w.example", key, 1)
    with pytest.raises(ValueError, match="checkpoint"):
        verify_cosignature(plain, parse_vkey(vkey("w.example", key.public_key(), COSIGNATURE_V1)))


ORIGINS = st.text(  # key names too: no spaces, controls or '+'
    st.characters(categories=("L", "N", "P", "S"), exclude_characters="+"), min_size=1
)


@settings(max_examples=100, deadline=None)
@given(
    origin=ORIGINS,
    size=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(ORIGINS, max_size=3),
    timestamp=st.integers(0, 2**63 - 1),
)
def test_any_checkpoint_round_trips_signed_and_cosigned(
    origin: str, size: int, root: bytes, extensions: list[str], timestamp: int
) -> None:
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    text = checkpoint.text()
    assert parse_checkpoint(text) == checkpoint
    log, witness_key = _peter(), _witness()
    note = add_signatures(
        sign_note(text, origin, log), [cosign(text, "w.example", witness_key, timestamp)]
    )
    assert parse_checkpoint(verify_note(note, parse_vkey(vkey(origin, log.public_key())))) == (
        checkpoint
    )
    witness = parse_vkey(vkey("w.example", witness_key.public_key(), COSIGNATURE_V1))
    assert verify_cosignature(note, witness) == timestamp
