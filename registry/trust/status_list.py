"""W3C Bitstring Status List v1.0 (Recommendation, May 2025).

Implements §2.1 ``BitstringStatusListEntry`` and §2.2
``BitstringStatusListCredential`` (the dict shapes), §3.3 Bitstring Generation
(a bitstring of at least 16KB = 131,072 bits, GZIP (RFC 1952), then multibase
base64url without padding: an ``encodedList`` starting with 'u'), §3.4
Bitstring Expansion, and steps 5-13 of §3.2 Validate (reading one entry's
status from a list credential whose proof the caller has already verified).

Bit order (§2.2, §7.1): index 0 is the left-most bit of the bitstring, the
most significant bit of the first byte; the last index is the least
significant bit of the last byte. Only ``statusSize`` 1 is supported, which is
what the ``revocation`` and ``suspension`` purposes use.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib
from collections.abc import Mapping
from typing import Any

__all__ = [
    "MAX_BYTES",
    "MIN_BITS",
    "PURPOSES",
    "Bitstring",
    "EncodedListError",
    "StatusEntryError",
    "StatusListError",
    "StatusListLengthError",
    "StatusRangeError",
    "parse_status_list_index",
    "status_list_credential",
    "status_list_entry",
    "status_of",
]

MIN_BITS = 131_072  # 16KB, §2.2 and §3.2 step 2
MAX_BYTES = 16 * 1024 * 1024  # refuse to expand an encodedList past this: a guard against GZIP bombs
PURPOSES = ("revocation", "suspension")
_MULTIBASE_BASE64URL = "u"
_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"


class StatusListError(ValueError):
    """A status list or status entry cannot be used."""


class StatusListLengthError(StatusListError):
    """STATUS_LIST_LENGTH_ERROR: the bitstring is shorter than 131,072 entries."""


class StatusRangeError(StatusListError):
    """RANGE_ERROR: an index lies outside the bitstring."""


class EncodedListError(StatusListError):
    """The ``encodedList`` is not multibase base64url of a GZIP stream."""


class StatusEntryError(StatusListError):
    """STATUS_VERIFICATION_ERROR: a status entry does not match the list, or is malformed."""


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise StatusListError(f"status purpose {purpose!r} is not one of {', '.join(PURPOSES)}")


class Bitstring:
    """A mutable bitstring of status bits, index 0 the most significant bit of the first byte."""

    def __init__(self, length: int = MIN_BITS) -> None:
        """An all-zero bitstring of ``length`` bits: a multiple of 8, at least 131,072."""
        if not isinstance(length, int) or length % 8:
            raise StatusListError(f"bitstring length must be a whole number of bytes, got {length!r} bits")
        if length < MIN_BITS:
            raise StatusListLengthError(f"bitstring has {length} bits, fewer than the minimum {MIN_BITS}")
        self._bytes = bytearray(length // 8)

    @classmethod
    def from_bytes(cls, data: bytes) -> Bitstring:
        """The bitstring held in ``data`` (its first byte holds indexes 0-7)."""
        bitstring = cls(len(data) * 8)
        bitstring._bytes[:] = data
        return bitstring

    def __len__(self) -> int:
        return len(self._bytes) * 8

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Bitstring) and self._bytes == other._bytes

    __hash__ = None  # type: ignore[assignment]  # mutable

    def _locate(self, index: int) -> tuple[int, int]:
        if not isinstance(index, int) or not 0 <= index < len(self):
            raise StatusRangeError(f"index {index!r} is outside the bitstring of {len(self)} bits")
        return index >> 3, 0x80 >> (index & 7)

    def get(self, index: int) -> bool:
        """The bit at ``index``: True when set (e.g. revoked)."""
        byte, mask = self._locate(index)
        return bool(self._bytes[byte] & mask)

    def set(self, index: int, value: bool = True) -> None:
        """Set (or, with ``value=False``, clear) the bit at ``index``."""
        byte, mask = self._locate(index)
        if value:
            self._bytes[byte] |= mask
        else:
            self._bytes[byte] &= ~mask

    def set_indexes(self) -> list[int]:
        """Every index whose bit is set, in order."""
        found: list[int] = []
        for position, byte in enumerate(self._bytes):
            if byte:
                found.extend(position * 8 + bit for bit in range(8) if byte & (0x80 >> bit))
        return found

    def to_bytes(self) -> bytes:
        return bytes(self._bytes)

    def encode(self) -> str:
        """The ``encodedList``: 'u' + base64url-no-pad(GZIP(bytes)). Deterministic (GZIP mtime 0)."""
        compressed = gzip.compress(bytes(self._bytes), mtime=0)
        return _MULTIBASE_BASE64URL + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, encoded_list: str, *, max_bytes: int = MAX_BYTES) -> Bitstring:
        """Expand an ``encodedList`` (§3.4); refuses lists shorter than 131,072 bits or longer than ``max_bytes``."""
        if not isinstance(encoded_list, str) or not encoded_list.startswith(_MULTIBASE_BASE64URL):
            raise EncodedListError("encodedList must be multibase base64url (start with 'u')")
        body = encoded_list[1:]
        if "=" in body:
            raise EncodedListError("encodedList must be base64url without padding")
        try:
            compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError) as exc:
            raise EncodedListError("encodedList is not valid base64url") from exc
        return cls.from_bytes(_gunzip(compressed, max_bytes))


def _gunzip(compressed: bytes, max_bytes: int) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # GZIP header and trailer required
    try:
        data = inflater.decompress(compressed, max_bytes + 1)
    except zlib.error as exc:
        raise EncodedListError(f"encodedList is not a GZIP stream: {exc}") from exc
    if len(data) > max_bytes:
        raise EncodedListError(f"encodedList expands to more than {max_bytes} bytes")
    if not inflater.eof or inflater.unused_data:
        raise EncodedListError("encodedList GZIP stream is truncated or followed by other data")
    return data


# --- credential shapes (§2.1, §2.2) and reading a status (§3.2) --------------------------------------


def parse_status_list_index(value: str) -> int:
    """``statusListIndex``: a base-10 string of a non-negative integer."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        raise StatusEntryError(f"statusListIndex {value!r} must be a base-10 string of digits")
    return int(value)


def status_list_entry(list_url: str, index: int, purpose: str) -> dict[str, Any]:
    """A ``BitstringStatusListEntry`` for a credential's ``credentialStatus``, pointing at the list at ``list_url``."""
    _check_purpose(purpose)
    if not isinstance(index, int) or index < 0:
        raise StatusRangeError(f"status list index must be a non-negative integer, got {index!r}")
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_list_credential(
    url: str,
    issuer: str | Mapping[str, Any],
    purpose: str,
    bitstring: Bitstring,
    *,
    valid_from: str | None = None,
    valid_until: str | None = None,
    ttl: int | None = None,
) -> dict[str, Any]:
    """An unsigned ``BitstringStatusListCredential`` published at ``url`` (sign it with Data Integrity)."""
    _check_purpose(purpose)
    credential: dict[str, Any] = {
        "@context": [_V2_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer if isinstance(issuer, str) else dict(issuer),
    }
    if valid_from is not None:
        credential["validFrom"] = valid_from
    if valid_until is not None:
        credential["validUntil"] = valid_until
    subject: dict[str, Any] = {
        "id": f"{url}#list",
        "type": "BitstringStatusList",
        "statusPurpose": purpose,
        "encodedList": bitstring.encode(),
    }
    if ttl is not None:
        subject["ttl"] = ttl
    credential["credentialSubject"] = subject
    return credential


def status_of(entry: Mapping[str, Any], list_credential: Mapping[str, Any], *, max_bytes: int = MAX_BYTES) -> bool:
    """Whether ``entry``'s bit is set in ``list_credential`` (§3.2 steps 5-13; True = revoked or suspended).

    The caller has fetched the list credential and verified its proof.
    """
    if entry.get("type") != "BitstringStatusListEntry":
        raise StatusEntryError("credentialStatus type must be BitstringStatusListEntry")
    if entry.get("statusSize", 1) != 1:
        raise StatusEntryError(f"statusSize {entry.get('statusSize')!r} is not supported, only 1")
    if "BitstringStatusListCredential" not in list_credential.get("type", []):
        raise StatusEntryError("status list credential type must include BitstringStatusListCredential")
    if list_credential.get("id") not in (None, entry.get("statusListCredential")):
        raise StatusEntryError("status list credential id is not the entry's statusListCredential")
    subject = list_credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("type") != "BitstringStatusList":
        raise StatusEntryError("status list credentialSubject must be a BitstringStatusList")
    purposes = subject.get("statusPurpose")
    purposes = purposes if isinstance(purposes, list) else [purposes]
    if entry.get("statusPurpose") not in purposes:
        raise StatusEntryError(f"status purpose {entry.get('statusPurpose')!r} is not the list's {purposes!r}")
    bitstring = Bitstring.decode(subject.get("encodedList"), max_bytes=max_bytes)  # type: ignore[arg-type]
    return bitstring.get(parse_status_list_index(entry.get("statusListIndex")))  # type: ignore[arg-type]
