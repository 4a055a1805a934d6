"""A log key rotated: the old key announces the new one, and checkpoints verify under the key in force at their size."""

from __future__ import annotations

import pytest

from mcreg.registry.trust.key_rotation import (
    AnnouncedKey,
    KeyChainError,
    LogKeyChain,
    Rotation,
    sign_rotation,
)
from mcreg.registry.trust.merkle import leaf_hash
from mcreg.registry.trust.signed_note import Checkpoint, NoteError, Signer, sign_checkpoint

ORIGIN = "registry.example/log"


def checkpoint(size: int, signer: Signer) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, size, leaf_hash(str(size).encode())), signer)


def test_checkpoints_verify_under_the_key_in_force_at_their_size():
    first, second, third = (Signer.generate(ORIGIN) for _ in range(3))
    chain = LogKeyChain.follow(
        [
            AnnouncedKey(first.verifier, None),
            AnnouncedKey(second.verifier, sign_rotation(Rotation(ORIGIN, 10, second.verifier), first)),
            AnnouncedKey(third.verifier, sign_rotation(Rotation(ORIGIN, 25, third.verifier), second)),
        ]
    )
    assert chain.current == third.verifier and chain.last_sizes == (10, 25)
    assert chain.open_checkpoint(checkpoint(10, first))[1] == 1
    assert chain.open_checkpoint(checkpoint(11, second))[1] == 2
    assert chain.open_checkpoint(checkpoint(3, third))[1] == 3  # a newer key may sign an older size
    assert chain.open_checkpoint(checkpoint(10_000, third))[1] == 3
    with pytest.raises(NoteError, match="signed by log key 1, which signs no size above 10"):
        chain.open_checkpoint(checkpoint(11, first))  # a retired key (perhaps leaked) signs nothing newer
    with pytest.raises(NoteError, match="not signed by any known key"):
        chain.open_checkpoint(checkpoint(5, Signer.generate(ORIGIN)))


def test_a_rotation_note_not_signed_by_the_key_in_force_breaks_the_chain():
    first, second = Signer.generate(ORIGIN), Signer.generate(ORIGIN)
    forged = sign_rotation(Rotation(ORIGIN, 10, second.verifier), Signer.generate(ORIGIN))
    with pytest.raises(KeyChainError, match="announcing log key 2 is not a rotation signed by log key 1"):
        LogKeyChain.follow([AnnouncedKey(first.verifier, None), AnnouncedKey(second.verifier, forged)])
    # A true note announcing another key than the one stored.
    other = sign_rotation(Rotation(ORIGIN, 10, Signer.generate(ORIGIN).verifier), first)
    with pytest.raises(KeyChainError, match=r"names .* instead"):
        LogKeyChain.follow([AnnouncedKey(first.verifier, None), AnnouncedKey(second.verifier, other)])
    with pytest.raises(KeyChainError, match="announced by no rotation note"):
        LogKeyChain.follow([AnnouncedKey(first.verifier, None), AnnouncedKey(second.verifier, None)])


def test_a_rotation_note_is_no_checkpoint_and_round_trips():
    new = Signer.generate(ORIGIN).verifier
    rotation = Rotation(ORIGIN, 42, new)
    assert Rotation.parse(rotation.text()) == rotation
    with pytest.raises(NoteError):
        Checkpoint.parse(rotation.text())
    with pytest.raises(KeyChainError):
        Rotation.parse(rotation.text().replace("\n42\n", "\n042\n"))
    with pytest.raises(KeyChainError, match="names both keys"):
        sign_rotation(Rotation(ORIGIN, 1, new), Signer.generate("elsewhere.example/log"))
