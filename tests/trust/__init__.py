"""Tests of the trust primitives: Merkle proofs, signed notes, Data Integrity proofs, status lists.

Their published vectors are under ``tests/data`` (``merkle``, ``vc-di-eddsa``, ``elm``), read through
``tests.testdata``.
"""
