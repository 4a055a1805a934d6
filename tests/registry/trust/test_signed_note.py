"""C2SP signed notes and tlog checkpoints: the reference implementation's example, tampering, checkpoints."""

from __future__ import annotations

import base64

import pytest

from mcreg.registry.trust.merkle import MerkleTree, leaf_hash
from mcreg.registry.trust.signed_note import (
    Checkpoint,
    CheckpointError,
    InvalidSignatureError,
    KeyFormatError,
    MalformedNoteError,
    NoteError,
    Signature,
    Signer,
    UnverifiedNoteError,
    Verifier,
    key_id,
    open_checkpoint,
    open_note,
    parse_note,
    sign_checkpoint,
    sign_note,
)

# The example key and note of golang.org/x/mod/sumdb/note, the format's reference implementation.
VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
SIG_LINE = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
NOTE = TEXT + "\n" + SIG_LINE


@pytest.fixture
def peter() -> Signer:
    return Signer.from_key(SKEY)


def test_reference_keys_round_trip(peter: Signer) -> None:
    verifier = Verifier.from_key(VKEY)
    assert verifier.name == "PeterNeumann"
    assert verifier.key_id == 0xC74F20A3 == key_id("PeterNeumann", verifier.public_key)
    assert peter.verifier == verifier
    assert peter.key() == SKEY
    assert verifier.key() == VKEY


def test_signing_reproduces_the_reference_note(peter: Signer) -> None:
    assert sign_note(TEXT, [peter]) == NOTE


def test_opening_the_reference_note() -> None:
    note = open_note(NOTE.encode(), [Verifier.from_key(VKEY)])
    assert note.text == TEXT
    assert [(s.name, s.key_id) for s in note.signatures] == [("PeterNeumann", 0xC74F20A3)]
    assert note.unverified == ()


def test_a_changed_text_is_rejected() -> None:
    tampered = NOTE.replace("cryptography", "cryptocurrency")
    with pytest.raises(InvalidSignatureError, match="PeterNeumann"):
        open_note(tampered, [Verifier.from_key(VKEY)])


def test_a_changed_signature_is_rejected() -> None:
    _, [sig] = parse_note(NOTE)
    flipped = Signature(sig.name, sig.key_id, bytes([sig.signature[0] ^ 1]) + sig.signature[1:])
    with pytest.raises(InvalidSignatureError):
        open_note(TEXT + "\n" + flipped.line(), [Verifier.from_key(VKEY)])


def test_unknown_keys_are_ignored_but_one_known_signature_is_needed(peter: Signer) -> None:
    stranger = Signer.generate("example.com/stranger")
    both = sign_note(TEXT, [stranger, peter])
    note = open_note(both, [Verifier.from_key(VKEY)])
    assert [s.name for s in note.signatures] == ["PeterNeumann"]
    assert [s.name for s in note.unverified] == ["example.com/stranger"]
    with pytest.raises(UnverifiedNoteError):
        open_note(both, [Signer.generate("example.com/other").verifier])


def test_a_changed_key_id_makes_the_signature_unknown() -> None:
    # "x08go" -> "x08gp" changes the last byte of the key ID, so the signature is no longer by a known key
    with pytest.raises(UnverifiedNoteError):
        open_note(NOTE.replace("x08go", "x08gp"), [Verifier.from_key(VKEY)])


def test_same_name_other_key_is_unknown_not_accepted() -> None:
    impostor = Signer.generate("PeterNeumann")
    with pytest.raises(UnverifiedNoteError):
        open_note(sign_note(TEXT, [impostor]), [Verifier.from_key(VKEY)])


def test_a_failed_known_signature_rejects_even_beside_a_good_one(peter: Signer) -> None:
    _, [sig] = parse_note(NOTE)
    flipped = Signature(sig.name, sig.key_id, sig.signature[:-1] + bytes([sig.signature[-1] ^ 1]))
    bad = TEXT + "\n" + flipped.line() + SIG_LINE
    with pytest.raises(InvalidSignatureError):
        open_note(bad, [peter.verifier])


@pytest.mark.parametrize(
    ("message", "why"),
    [
        (TEXT + SIG_LINE, "no blank line"),
        (TEXT + "\n" + SIG_LINE.rstrip("\n"), "lacks its newline"),
        (TEXT + "\n" + SIG_LINE.replace("— ", "-- "), "em dash"),
        (TEXT + "\n" + SIG_LINE.replace("PeterNeumann ", "Peter+Neumann "), "without spaces or '\\+'"),
        (TEXT + "\n" + "— PeterNeumann\n", "no signature"),
        (TEXT + "\n" + "— PeterNeumann !!!!\n", "base64"),
        (TEXT + "\n" + "— PeterNeumann AAAA\n", "too short"),
        ("tab\there\n\n" + SIG_LINE, "control character"),
        (TEXT + "\n" + SIG_LINE * 101, "more than 100"),
    ],
)
def test_malformed_notes(message: str, why: str) -> None:
    with pytest.raises(MalformedNoteError, match=why):
        open_note(message, [Verifier.from_key(VKEY)])


def test_invalid_utf8_is_malformed() -> None:
    with pytest.raises(MalformedNoteError, match="UTF-8"):
        parse_note(b"\xff\n\n" + SIG_LINE.encode())


def test_text_may_hold_blank_lines(peter: Signer) -> None:
    text = "first\n\nthird\n"
    assert open_note(sign_note(text, [peter]), [peter.verifier]).text == text


def test_sign_refuses_bad_text(peter: Signer) -> None:
    with pytest.raises(MalformedNoteError, match="newline"):
        sign_note("no newline", [peter])
    with pytest.raises(MalformedNoteError, match="control"):
        sign_note("bell\a\n", [peter])
    with pytest.raises(NoteError, match="at least one signer"):
        sign_note("text\n", [])


@pytest.mark.parametrize(
    "vkey",
    [
        VKEY.replace("c74f20a3", "c74f20a4"),  # key ID does not match the key
        VKEY.replace("c74f20a3", "C74F20A3"),  # upper-case hex
        VKEY[:-4],  # truncated key
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",  # wrong key length
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # unknown algorithm
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space in the name
        "PeterNeumann",
    ],
)
def test_bad_verifier_keys(vkey: str) -> None:
    with pytest.raises(KeyFormatError):
        Verifier.from_key(vkey)


def test_bad_signer_keys() -> None:
    with pytest.raises(KeyFormatError, match="PRIVATE"):
        Signer.from_key(SKEY.removeprefix("PRIVATE+KEY+"))
    with pytest.raises(KeyFormatError):
        Signer.from_key(SKEY.replace("c74f20a3", "00000000"))
    with pytest.raises(KeyFormatError):
        Signer.generate("has space")


# --- checkpoints ------------------------------------------------------------------------------------

ORIGIN = "registry.example/log"


def _tree(size: int) -> MerkleTree:
    return MerkleTree(leaf_hash(f"event {i}".encode()) for i in range(size))


def test_checkpoint_text_layout() -> None:
    root = bytes(range(32))
    checkpoint = Checkpoint(ORIGIN, 20852163, root)
    assert checkpoint.text() == f"{ORIGIN}\n20852163\n{base64.b64encode(root).decode()}\n"
    assert Checkpoint.parse(checkpoint.text()) == checkpoint
    with_ext = Checkpoint(ORIGIN, 0, root, ("ext one",))
    assert Checkpoint.parse(with_ext.text()) == with_ext


def test_spec_example_checkpoint_text_parses() -> None:
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    checkpoint = Checkpoint.parse(text)
    assert (checkpoint.origin, checkpoint.size, len(checkpoint.root_hash)) == (
        "example.com/behind-the-sofa",
        20852163,
        32,
    )


def test_signed_checkpoint_round_trip() -> None:
    log, witness = Signer.generate(ORIGIN), Signer.generate("witness.example/w1")
    tree = _tree(11)
    message = sign_checkpoint(Checkpoint(ORIGIN, tree.size, tree.root()), log, [witness])
    checkpoint, note = open_checkpoint(message, log.verifier, [witness.verifier])
    assert (checkpoint.size, checkpoint.root_hash) == (11, tree.root())
    assert {s.name for s in note.signatures} == {ORIGIN, "witness.example/w1"}


def test_a_tampered_checkpoint_is_rejected() -> None:
    log = Signer.generate(ORIGIN)
    tree = _tree(11)
    message = sign_checkpoint(Checkpoint(ORIGIN, tree.size, tree.root()), log)
    with pytest.raises(InvalidSignatureError):
        open_checkpoint(message.replace("\n11\n", "\n12\n"), log.verifier)
    other_root = base64.b64encode(_tree(12).root()).decode()
    with pytest.raises(InvalidSignatureError):
        open_checkpoint(message.replace(base64.b64encode(tree.root()).decode(), other_root), log.verifier)


def test_a_checkpoint_signed_only_by_a_witness_is_not_the_logs() -> None:
    log, witness = Signer.generate(ORIGIN), Signer.generate("witness.example/w1")
    message = sign_note(Checkpoint(ORIGIN, 1, _tree(1).root()).text(), [witness])
    with pytest.raises(UnverifiedNoteError, match="log key"):
        open_checkpoint(message, log.verifier, [witness.verifier])


def test_checkpoint_origin_must_be_the_log() -> None:
    log = Signer.generate(ORIGIN)
    with pytest.raises(CheckpointError, match="origin"):
        sign_checkpoint(Checkpoint("other.example/log", 1, _tree(1).root()), log)
    message = sign_note(Checkpoint("other.example/log", 1, _tree(1).root()).text(), [log])
    with pytest.raises(CheckpointError, match="origin"):
        open_checkpoint(message, log.verifier)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (f"{ORIGIN}\n5\n", "needs at least 3"),
        (f"{ORIGIN}\n05\n{base64.b64encode(bytes(32)).decode()}\n", "leading zeros"),
        (f"{ORIGIN}\n-1\n{base64.b64encode(bytes(32)).decode()}\n", "decimal"),
        (f"{ORIGIN}\n5\n{base64.b64encode(bytes(31)).decode()}\n", "32 bytes"),
        (f"{ORIGIN}\n5\nnot base64!\n", "base64"),
        (f"\n5\n{base64.b64encode(bytes(32)).decode()}\n", "non-empty"),
        (f"{ORIGIN}\n5\n{base64.b64encode(bytes(32)).decode()}\n\n", "extension"),
        (f"{ORIGIN}\n5\n{base64.b64encode(bytes(32)).decode()}", "newline"),
    ],
)
def test_malformed_checkpoints(text: str, why: str) -> None:
    with pytest.raises(CheckpointError, match=why):
        Checkpoint.parse(text)
