"""C2SP signed notes with Ed25519, and transparency log checkpoints.

Implements c2sp.org/signed-note (sections "Format", "Signatures" and
"Ed25519 signatures"; signature type 0x01) and the note text of
c2sp.org/tlog-checkpoint ("Note text"): origin line, tree size, base64 root
hash, optional extension lines.

A signed note is UTF-8 text ending in a newline, a blank line, then one line
per signature: em dash (U+2014), space, key name, space,
base64(4-byte big-endian key ID || signature). The signature covers the text
including its final newline. The Ed25519 key ID is the first four bytes of
SHA-256(name || 0x0A || 0x01 || 32-byte public key).

Key strings follow the reference implementation (golang.org/x/mod/sumdb/note):
verifier ``<name>+<8 hex key ID>+base64(0x01 || public key)`` and signer
``PRIVATE+KEY+<name>+<8 hex key ID>+base64(0x01 || seed)``.

Opening a note follows the spec: signatures by unknown keys are ignored, a
signature by a known key that fails rejects the whole note, and a note with no
verified signature by a known key is rejected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "ALG_ED25519",
    "MAX_SIGNATURES",
    "Checkpoint",
    "CheckpointError",
    "InvalidSignatureError",
    "KeyFormatError",
    "MalformedNoteError",
    "Note",
    "NoteError",
    "Signature",
    "Signer",
    "UnverifiedNoteError",
    "Verifier",
    "key_id",
    "open_checkpoint",
    "open_note",
    "parse_note",
    "sign_checkpoint",
    "sign_note",
]

ALG_ED25519 = 0x01
MAX_SIGNATURES = 100  # the spec asks verifiers for a limit of at least 16; the reference implementation uses 100
_SIG_PREFIX = "\u2014 "  # em dash, space
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_HEX8 = re.compile(r"[0-9a-f]{8}")
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A signed note, key or checkpoint cannot be used."""


class MalformedNoteError(NoteError):
    """The note breaks the signed-note format."""


class InvalidSignatureError(NoteError):
    """A signature by a known key does not verify: the whole note is rejected."""


class UnverifiedNoteError(NoteError):
    """No signature on the note is by a known key."""


class KeyFormatError(NoteError):
    """A verifier or signer key string, or a key name, is malformed."""


class CheckpointError(NoteError):
    """The note text is not a well-formed tlog checkpoint, or not the one expected."""


# --- names, key IDs, keys ---------------------------------------------------------------------------


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name or "+" in name or any(ch.isspace() for ch in name):
        raise KeyFormatError(f"key name {name!r} must be non-empty, without spaces or '+'")


def _check_text(text: str, what: str) -> None:
    bad = next((ch for ch in text if ch < " " and ch != "\n"), None)
    if bad is not None:
        raise MalformedNoteError(f"{what} contains control character U+{ord(bad):04X}")


def key_id(name: str, public_key: bytes, alg: int = ALG_ED25519) -> int:
    """The RECOMMENDED key ID: SHA-256(name || 0x0A || alg || public key)[:4] as a big-endian uint32."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _b64decode(value: str, what: str, error: type[NoteError]) -> bytes:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise error(f"{what} is not standard base64") from exc


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _split_key(key: str, what: str) -> tuple[str, int, bytes]:
    """``name+hex8+base64(alg || key)`` → (name, key ID, key bytes), checking the ID and algorithm."""
    parts = key.split("+", 2)
    if len(parts) != 3 or not _HEX8.fullmatch(parts[1]):
        raise KeyFormatError(f"{what} must look like name+<8 lowercase hex>+<base64>")
    name, hex_id, blob = parts
    _check_name(name)
    raw = _b64decode(blob, f"{what} key data", KeyFormatError)
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise KeyFormatError(f"{what} is not an Ed25519 key (type 0x01 and 32 bytes)")
    return name, int(hex_id, 16), raw[1:]


@dataclass(frozen=True)
class Verifier:
    """A named Ed25519 public key that can verify note signatures."""

    name: str
    public_key: bytes
    key_id: int = field(init=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if len(self.public_key) != 32:
            raise KeyFormatError(f"an Ed25519 public key is 32 bytes, got {len(self.public_key)}")
        object.__setattr__(self, "key_id", key_id(self.name, self.public_key))

    @classmethod
    def from_key(cls, vkey: str) -> Verifier:
        """Parse a verifier key string ``name+hex8+base64(0x01 || public key)``."""
        name, claimed_id, public_key = _split_key(vkey, "verifier key")
        verifier = cls(name, public_key)
        if verifier.key_id != claimed_id:
            raise KeyFormatError(f"verifier key ID {claimed_id:08x} does not match its key ({verifier.key_id:08x})")
        return verifier

    def key(self) -> str:
        """The verifier key string."""
        return f"{self.name}+{self.key_id:08x}+{_b64encode(bytes([ALG_ED25519]) + self.public_key)}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A named Ed25519 private key that signs notes."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        _check_name(self.name)

    @classmethod
    def generate(cls, name: str) -> Signer:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_key(cls, skey: str) -> Signer:
        """Parse a signer key string ``PRIVATE+KEY+name+hex8+base64(0x01 || seed)``."""
        if not skey.startswith(_PRIVATE_PREFIX):
            raise KeyFormatError("signer key must start with PRIVATE+KEY+")
        name, claimed_id, seed = _split_key(skey[len(_PRIVATE_PREFIX) :], "signer key")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(seed))
        if signer.key_id != claimed_id:
            raise KeyFormatError(f"signer key ID {claimed_id:08x} does not match its key ({signer.key_id:08x})")
        return signer

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.private_key.public_key().public_bytes_raw())

    @property
    def key_id(self) -> int:
        return self.verifier.key_id

    def key(self) -> str:
        """The signer key string. It is a secret."""
        seed = self.private_key.private_bytes_raw()
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_id:08x}+{_b64encode(bytes([ALG_ED25519]) + seed)}"

    def sign(self, text: bytes) -> bytes:
        return self.private_key.sign(text)


# --- notes --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """One signature line: key name, key ID and the signature bytes after the ID."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        """The signature line, with its final newline."""
        blob = self.key_id.to_bytes(4, "big") + self.signature
        return f"{_SIG_PREFIX}{self.name} {_b64encode(blob)}\n"


@dataclass(frozen=True)
class Note:
    """An opened note: its text, the signatures verified by known keys, and those by unknown keys."""

    text: str
    signatures: tuple[Signature, ...]
    unverified: tuple[Signature, ...] = ()


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """The signed note: ``text`` (which must end in a newline), a blank line, one line per signer."""
    if not text.endswith("\n"):
        raise MalformedNoteError("note text must end with a newline")
    _check_text(text, "note text")
    if not signers:
        raise NoteError("a signed note needs at least one signer")
    payload = text.encode()
    lines = [Signature(s.name, s.key_id, s.sign(payload)).line() for s in signers]
    return text + "\n" + "".join(lines)


def _parse_signature_line(line: str) -> Signature:
    if not line.startswith(_SIG_PREFIX):
        raise MalformedNoteError(f"signature line {line!r} does not start with an em dash and a space")
    name, sep, blob = line[len(_SIG_PREFIX) :].partition(" ")
    if not sep or not blob:
        raise MalformedNoteError(f"signature line {line!r} has no signature")
    try:
        _check_name(name)
    except KeyFormatError as exc:
        raise MalformedNoteError(str(exc)) from exc
    raw = _b64decode(blob, f"signature of {name}", MalformedNoteError)
    if len(raw) < 5:
        raise MalformedNoteError(f"signature of {name} is too short")
    return Signature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def parse_note(message: str | bytes) -> tuple[str, list[Signature]]:
    """Split a signed note into its text and its signature lines, checking the syntax only."""
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedNoteError("note is not valid UTF-8") from exc
    _check_text(message, "note")
    split = message.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("note has no blank line before its signatures")
    text, block = message[: split + 1], message[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedNoteError("note has no signature lines, or the last one lacks its newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError(f"note has {len(lines)} signatures, more than {MAX_SIGNATURES}")
    return text, [_parse_signature_line(line) for line in lines]


def open_note(message: str | bytes, verifiers: Iterable[Verifier]) -> Note:
    """Parse a signed note and verify its signatures by the known ``verifiers``.

    Raises :class:`MalformedNoteError`, :class:`InvalidSignatureError` when a
    known key's signature fails, :class:`UnverifiedNoteError` when no known key
    signed. Repeated signatures by one key count once.
    """
    text, signatures = parse_note(message)
    known = {(v.name, v.key_id): v for v in verifiers}
    payload = text.encode()
    verified: dict[tuple[str, int], Signature] = {}
    unverified: dict[Signature, None] = {}
    for sig in signatures:
        who = (sig.name, sig.key_id)
        verifier = known.get(who)
        if verifier is None:
            unverified.setdefault(sig)
            continue
        if who in verified:
            continue
        if not verifier.verify(payload, sig.signature):
            raise InvalidSignatureError(f"signature by {sig.name} (key {sig.key_id:08x}) does not verify")
        verified[who] = sig
    if not verified:
        raise UnverifiedNoteError("note is not signed by any known key")
    return Note(text, tuple(verified.values()), tuple(unverified))


# --- checkpoints ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A transparency log checkpoint: origin, tree size, root hash and optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError("checkpoint origin must be a non-empty single line")
        _check_text(self.origin, "checkpoint origin")
        if not isinstance(self.size, int) or self.size < 0:
            raise CheckpointError(f"checkpoint tree size must be a non-negative integer, got {self.size!r}")
        if len(self.root_hash) != 32:
            raise CheckpointError(f"checkpoint root hash must be 32 bytes, got {len(self.root_hash)}")
        for line in self.extensions:
            if not line or "\n" in line:
                raise CheckpointError("checkpoint extension lines must be non-empty single lines")
            _check_text(line, "checkpoint extension line")

    def text(self) -> str:
        """The note text: one line each for origin, size, base64 root hash and extensions."""
        lines = [self.origin, str(self.size), _b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint's note text (not the signed note)."""
        if not text.endswith("\n"):
            raise CheckpointError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError(f"checkpoint text has {len(lines)} lines, needs at least 3")
        origin, size, root, *extensions = lines
        if not _TREE_SIZE.fullmatch(size):
            raise CheckpointError(f"checkpoint tree size {size!r} is not a decimal without leading zeros")
        return cls(origin, int(size), _b64decode(root, "checkpoint root hash", CheckpointError), tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer, cosigners: Sequence[Signer] = ()) -> str:
    """The signed checkpoint note. The log's key name should be the origin, so it must be here."""
    if signer.name != checkpoint.origin:
        raise CheckpointError(f"log key name {signer.name!r} is not the checkpoint origin {checkpoint.origin!r}")
    return sign_note(checkpoint.text(), [signer, *cosigners])


def open_checkpoint(message: str | bytes, log: Verifier, witnesses: Iterable[Verifier] = ()) -> tuple[Checkpoint, Note]:
    """Open a signed checkpoint: the log's own signature must verify and its origin must be the log's name."""
    note = open_note(message, [log, *witnesses])
    if not any((s.name, s.key_id) == (log.name, log.key_id) for s in note.signatures):
        raise UnverifiedNoteError(f"checkpoint is not signed by the log key {log.name}")
    checkpoint = Checkpoint.parse(note.text)
    if checkpoint.origin != log.name:
        raise CheckpointError(f"checkpoint origin {checkpoint.origin!r} is not the log {log.name!r}")
    return checkpoint, note
