"""A transparency log's key rotated: the old key signs a note announcing the new one, and a verifier follows the chain.

A rotation note is a C2SP signed note (``registry.trust.signed_note``), signed
by the key in force, whose text is::

    mcreg/log-key-rotation/v1     the note's kind and version (never a checkpoint's origin)
    registry.example/log          the log's origin, the name of both keys
    4711                          the last tree size the old key signs a checkpoint of
    registry.example/log+…        the new key, as a signed-note verifier key

A log's keys form a chain: the first key, then each key announced by a note
its predecessor signed. A checkpoint verifies under the key that signed it
if that key is in the chain and the checkpoint's size is not beyond the size
its key handed over at: a key retired by a rotation (perhaps because it
leaked) signs nothing newer. A newer key may sign an older size (a restored
registry signs its log again under the key in force).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from mcreg.registry.trust.signed_note import (
    Checkpoint,
    CheckpointError,
    NoteError,
    Signer,
    UnverifiedNoteError,
    Verifier,
    open_note,
    sign_note,
)

ROTATION = "mcreg/log-key-rotation/v1"
_SIZE = re.compile(r"0|[1-9][0-9]*")


class KeyChainError(NoteError):
    """A rotation note is malformed, not signed by the key in force before it, or announces another key."""


@dataclass(frozen=True)
class Rotation:
    """What a rotation note says: from ``last_size`` on, the log's checkpoints are signed by ``new_key``."""

    origin: str
    last_size: int
    new_key: Verifier

    def text(self) -> str:
        return "".join(line + "\n" for line in (ROTATION, self.origin, str(self.last_size), self.new_key.key()))

    @classmethod
    def parse(cls, text: str) -> Rotation:
        lines = text.split("\n")
        if len(lines) != 5 or lines[0] != ROTATION or lines[4] != "" or not _SIZE.fullmatch(lines[2]):
            raise KeyChainError(f"the note is not a {ROTATION} note")
        new_key = Verifier.from_key(lines[3])
        if new_key.name != lines[1]:
            raise KeyChainError(f"the new key is named {new_key.name!r}, not the log's origin {lines[1]!r}")
        return cls(lines[1], int(lines[2]), new_key)


def sign_rotation(rotation: Rotation, old: Signer) -> str:
    """The rotation note, signed by the key in force; both keys are named by the log's origin."""
    if old.name != rotation.origin or rotation.new_key.name != rotation.origin:
        raise KeyChainError(f"a rotation of the log {rotation.origin!r} names both keys {rotation.origin!r}")
    return sign_note(rotation.text(), [old])


@dataclass(frozen=True)
class AnnouncedKey:
    """A log key as the registry stores it, with the rotation note that announced it (None for the first key)."""

    key: Verifier
    announcement: str | None


@dataclass(frozen=True)
class LogKeyChain:
    """A log's keys, oldest first; ``last_sizes[i]`` is the last tree size ``keys[i]`` signs (the last key's: any)."""

    keys: tuple[Verifier, ...]
    last_sizes: tuple[int, ...]

    @property
    def origin(self) -> str:
        return self.keys[0].name

    @property
    def current(self) -> Verifier:
        return self.keys[-1]

    @classmethod
    def follow(cls, announced: Sequence[AnnouncedKey]) -> LogKeyChain:
        """Check each key after the first against the note announcing it, signed by the key before it.

        Raises ``KeyChainError`` naming the first key whose announcement fails.
        """
        if not announced:
            raise KeyChainError("the log has no key")
        first = announced[0].key
        keys, last_sizes = [first], list[int]()
        for number, entry in enumerate(announced[1:], start=2):
            if entry.announcement is None:
                raise KeyChainError(f"log key {number} was announced by no rotation note")
            try:
                rotation = Rotation.parse(open_note(entry.announcement, [keys[-1]]).text)
            except NoteError as error:
                raise KeyChainError(
                    f"the note announcing log key {number} is not a rotation signed by log key {number - 1}"
                    f" ({keys[-1].key()}): {error}"
                ) from None
            if rotation.origin != first.name:
                raise KeyChainError(f"the note announcing log key {number} is for the log {rotation.origin!r}")
            if rotation.new_key != entry.key:
                raise KeyChainError(f"the note announcing log key {number} names {rotation.new_key.key()} instead")
            if last_sizes and rotation.last_size < last_sizes[-1]:
                raise KeyChainError(
                    f"log key {number - 1} hands over at size {rotation.last_size}, before it took over"
                    f" (size {last_sizes[-1]})"
                )
            keys.append(entry.key)
            last_sizes.append(rotation.last_size)
        return cls(tuple(keys), tuple(last_sizes))

    def number(self, key: Verifier) -> int | None:
        """The key's number in the chain (1 for the first), None when it is not one of the log's keys."""
        return self.keys.index(key) + 1 if key in self.keys else None

    def open_checkpoint(self, message: str | bytes) -> tuple[Checkpoint, int]:
        """Open a signed checkpoint of this log: the checkpoint and the number of the key it verifies under.

        Raises ``NoteError`` when no key of the chain signed it, or only keys retired before its size.
        """
        note = open_note(message, self.keys)
        checkpoint = Checkpoint.parse(note.text)
        if checkpoint.origin != self.origin:
            raise CheckpointError(f"checkpoint origin {checkpoint.origin!r} is not the log {self.origin!r}")
        signed = {(s.name, s.key_id) for s in note.signatures}
        by = [i for i, key in enumerate(self.keys) if (key.name, key.key_id) in signed]
        in_force = [i for i in by if i == len(self.last_sizes) or checkpoint.size <= self.last_sizes[i]]
        if not in_force:
            retired = by[-1]
            raise UnverifiedNoteError(
                f"checkpoint {checkpoint.size} is signed by log key {retired + 1}, which signs no size above"
                f" {self.last_sizes[retired]}"
            )
        return checkpoint, in_force[-1] + 1
