"""Why a Data Integrity proof cannot be made or checked, by the W3C error names where the specification gives one."""

from __future__ import annotations


class DataIntegrityError(ValueError):
    """A Data Integrity proof cannot be made or checked."""


class MultikeyError(DataIntegrityError):
    """A Multikey or did:key string does not hold an Ed25519 key."""


class ProofGenerationError(DataIntegrityError):
    """PROOF_GENERATION_ERROR: the document or the proof options cannot be signed."""


class ProofVerificationError(DataIntegrityError):
    """PROOF_VERIFICATION_ERROR: the proof is malformed or does not verify."""


class ProofTransformationError(DataIntegrityError):
    """PROOF_TRANSFORMATION_ERROR: the document or the proof configuration cannot be canonicalized.

    For ``eddsa-rdfc-2022``: a context that is not shipped, JSON-LD that is not
    valid, or a term that JSON-LD would drop (safe mode).
    """
