"""The trust primitives: Merkle proofs, signed notes, Data Integrity proofs, status lists, against their
published vectors (``tests/data``)."""
