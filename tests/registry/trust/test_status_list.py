"""Bitstring Status List v1.0: bit order, the spec's example list, encoding round trips, limits."""

from __future__ import annotations

import base64
import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcreg.registry.trust.status_list import (
    MIN_BITS,
    Bitstring,
    EncodedListError,
    StatusEntryError,
    StatusListError,
    StatusListLengthError,
    StatusRangeError,
    parse_status_list_index,
    status_list_credential,
    status_list_entry,
    status_of,
)

# Example 3 of the Recommendation: an all-zero list of the minimum size.
SPEC_ENCODED_LIST = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
LIST_URL = "https://registry.example/status/1"


def test_minimum_size_is_16kb() -> None:
    assert MIN_BITS == 131_072 == 16 * 1024 * 8
    assert len(Bitstring()) == MIN_BITS
    assert len(Bitstring(MIN_BITS * 2)) == 2 * MIN_BITS
    with pytest.raises(StatusListLengthError):
        Bitstring(MIN_BITS - 8)
    with pytest.raises(StatusListError, match="whole number of bytes"):
        Bitstring(MIN_BITS + 1)


def test_the_spec_example_list_is_16kb_of_zeros() -> None:
    bits = Bitstring.decode(SPEC_ENCODED_LIST)
    assert len(bits) == 131_072
    assert bits.to_bytes() == bytes(16_384)
    assert not bits.get(94567) and not bits.get(23452)  # the indexes of the spec's Example 1


def test_index_zero_is_the_leftmost_bit() -> None:
    bits = Bitstring()
    bits.set(0)
    assert bits.to_bytes()[0] == 0b1000_0000
    bits.set(7)
    assert bits.to_bytes()[0] == 0b1000_0001
    bits.set(8)
    assert bits.to_bytes()[1] == 0b1000_0000


def test_last_index_is_the_rightmost_bit() -> None:
    bits = Bitstring()
    bits.set(131_071)
    assert bits.to_bytes()[-1] == 0b0000_0001
    assert bits.set_indexes() == [131_071]
    with pytest.raises(StatusRangeError):
        bits.get(131_072)
    with pytest.raises(StatusRangeError):
        bits.set(-1)


def test_spec_example_indexes_land_where_expected() -> None:
    bits = Bitstring()
    bits.set(94567)  # byte 11820, bit 7 from the left
    bits.set(23452)  # byte 2931, bit 4 from the left
    raw = bits.to_bytes()
    assert raw[94567 // 8] == 0x80 >> (94567 % 8) == 0x01
    assert raw[23452 // 8] == 0x80 >> (23452 % 8) == 0x08
    assert bits.set_indexes() == [23452, 94567]


def test_clear_a_bit_for_suspension() -> None:
    bits = Bitstring()
    bits.set(42)
    bits.set(42, False)
    assert not bits.get(42) and bits == Bitstring()


def test_encoding_is_gzip_then_multibase_base64url_without_padding() -> None:
    bits = Bitstring()
    bits.set(5)
    encoded = bits.encode()
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded and "/" not in encoded
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    assert raw[:2] == b"\x1f\x8b"  # the GZIP magic number
    assert gzip.decompress(raw) == bits.to_bytes()
    assert bits.encode() == encoded  # deterministic


@given(st.sets(st.integers(min_value=0, max_value=MIN_BITS - 1), max_size=200))
def test_round_trip(indexes: set[int]) -> None:
    bits = Bitstring()
    for i in indexes:
        bits.set(i)
    decoded = Bitstring.decode(bits.encode())
    assert decoded == bits
    assert decoded.set_indexes() == sorted(indexes)


def _encode_raw(data: bytes) -> str:
    # mtime=0: the same list encodes the same on every collection (pytest-xdist's workers must agree on the ids).
    return "u" + base64.urlsafe_b64encode(gzip.compress(data, mtime=0)).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("encoded", "error", "why"),
    [
        (SPEC_ENCODED_LIST[1:], EncodedListError, "start with 'u'"),
        (SPEC_ENCODED_LIST + "==", EncodedListError, "padding"),
        ("u" + base64.urlsafe_b64encode(bytes(16_384)).rstrip(b"=").decode(), EncodedListError, "GZIP"),
        (SPEC_ENCODED_LIST[:-6], EncodedListError, "truncated|GZIP"),
        (_encode_raw(bytes(16_383)), StatusListLengthError, "fewer than the minimum"),
    ],
)
def test_bad_encoded_lists(encoded: str, error: type[Exception], why: str) -> None:
    with pytest.raises(error, match=why):
        Bitstring.decode(encoded)


def test_decoding_refuses_a_gzip_bomb() -> None:
    with pytest.raises(EncodedListError, match="more than"):
        Bitstring.decode(_encode_raw(bytes(64 * 1024)), max_bytes=32 * 1024)


def test_credential_shape() -> None:
    bits = Bitstring()
    bits.set(94567)
    credential = status_list_credential(
        LIST_URL, "did:example:12345", "revocation", bits, valid_from="2025-01-01T00:00:00Z"
    )
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert credential["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert credential["credentialSubject"] == {
        "id": f"{LIST_URL}#list",
        "type": "BitstringStatusList",
        "statusPurpose": "revocation",
        "encodedList": bits.encode(),
    }
    assert credential["validFrom"] == "2025-01-01T00:00:00Z"
    with pytest.raises(StatusListError, match="purpose"):
        status_list_credential(LIST_URL, "did:example:12345", "refresh", bits)


def test_entry_and_status() -> None:
    bits = Bitstring()
    bits.set(94567)
    revocations = status_list_credential(LIST_URL, "did:example:12345", "revocation", bits)
    revoked = status_list_entry(LIST_URL, 94567, "revocation")
    assert revoked == {
        "id": f"{LIST_URL}#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": LIST_URL,
    }
    assert status_of(revoked, revocations) is True
    assert status_of(status_list_entry(LIST_URL, 23452, "revocation"), revocations) is False
    with pytest.raises(StatusEntryError, match="purpose"):
        status_of(status_list_entry(LIST_URL, 94567, "suspension"), revocations)
    with pytest.raises(StatusEntryError, match="statusListCredential"):
        status_of(status_list_entry("https://elsewhere.example/1", 94567, "revocation"), revocations)
    with pytest.raises(StatusRangeError):
        status_of(status_list_entry(LIST_URL, MIN_BITS, "revocation"), revocations)
    with pytest.raises(StatusEntryError, match="statusSize"):
        status_of({**revoked, "statusSize": 2}, revocations)


@pytest.mark.parametrize("value", ["-1", "1e3", "0x10", " 5", "", "٣"])
def test_status_list_index_is_a_base10_string(value: str) -> None:
    with pytest.raises(StatusEntryError):
        parse_status_list_index(value)
    assert parse_status_list_index("094567") == 94567
