"""Trust primitives, pure functions of bytes: RFC 9162 Merkle trees, C2SP signed notes, W3C Data
Integrity proofs (eddsa-rdfc-2022 over the JSON-LD contexts shipped in contexts/, and eddsa-jcs-2022) and W3C
Bitstring Status Lists."""
